/**
 * What a deployment carries, from a few measured per-message costs: Redis egress with every
 * instance reading the whole log against interest routing, per instance and per shard.
 */

/** Costs the bench measured (or that are given), per message. */
export interface MeasuredCosts {
  /** Bytes an instance reads from Redis for one targeted message it has a recipient of. */
  overheadBytes: number;
  /** redis-server CPU (masters and replicas) per targeted message, µs. */
  redisUsPerMessage: number;
  /** CPU of the publishing Node process per message, µs. */
  publisherUsPerMessage: number;
  /** Connections one instance holds (the bench's highest level that met its targets). */
  connectionsPerInstance: number;
}

export interface Workload {
  connections: number;
  /** Targeted messages per second, each to one client. */
  targetedPerSecond: number;
  /** Broadcasts per second. */
  broadcastsPerSecond: number;
  /** Data bytes of a message. */
  dataBytes: number;
  shards: number;
}

export interface Capacity {
  instances: number;
  /** Bytes a message costs on the wire from Redis to an instance. */
  wireBytes: number;
  /** Out of Redis per second if every instance read the whole log (single-node transport). */
  readAllBytesPerSecond: number;
  /** Out of Redis per second with interest routing: each targeted message to one instance. */
  interestBytesPerSecond: number;
  /** What one instance reads per second, with interest routing (targeted + broadcast). */
  perInstanceBytesPerSecond: number;
  /** Out of shard 0 per second for broadcasts: every instance hears each. */
  broadcastBytesPerSecond: number;
  /** Written to and read from one shard per second, targeted traffic (before replication). */
  perShardBytesPerSecond: number;
  /** redis-server cores the targeted publishes need (masters and replicas). */
  redisCores: number;
  /** Cores of publishing Node processes. */
  publisherCores: number;
  /** Frames per second each instance writes to its clients. */
  framesPerInstancePerSecond: number;
}

export function capacityOf(workload: Workload, costs: MeasuredCosts): Capacity {
  const instances = Math.max(1, Math.ceil(workload.connections / costs.connectionsPerInstance));
  const wireBytes = workload.dataBytes + costs.overheadBytes;
  const targeted = workload.targetedPerSecond * wireBytes;
  const broadcast = workload.broadcastsPerSecond * wireBytes;
  return {
    instances,
    wireBytes,
    readAllBytesPerSecond: instances * (targeted + broadcast),
    interestBytesPerSecond: targeted + instances * broadcast,
    perInstanceBytesPerSecond: targeted / instances + broadcast,
    broadcastBytesPerSecond: instances * broadcast,
    perShardBytesPerSecond: targeted / workload.shards,
    redisCores: (workload.targetedPerSecond * costs.redisUsPerMessage) / 1e6,
    publisherCores: (workload.targetedPerSecond * costs.publisherUsPerMessage) / 1e6,
    framesPerInstancePerSecond:
      workload.targetedPerSecond / instances +
      (workload.broadcastsPerSecond * workload.connections) / instances,
  };
}
