import type { LatencySummary } from '../lib/stats.js';

/** One instance's share of the log in the interest step. */
export interface InstanceReadBytes {
  clients: number;
  /** Delta of `sse_bus_redis_read_bytes_total` over the publishes. */
  readBytes: number;
  /** readBytes over what an instance reading the whole log read for the same traffic. */
  ratio: number | null;
}

/** One log (single node or cluster) carrying the interest step's traffic. */
export interface InterestLog {
  redis: 'single-node' | 'cluster';
  instances: InstanceReadBytes[];
  /** Messages counted at the clients, and the clients that did not get exactly theirs. */
  delivered: number;
  wrongClients: number;
  elapsedMs: number;
}

export interface InterestResult {
  clients: number;
  instances: number;
  masters: number;
  shards: number;
  messages: number;
  dataBytes: number;
  /** Median bytes read per instance on the single node: every instance reads all of the log. */
  allTargetedBytes: number;
  allTargetedBytesPerMessage: number;
  singleNode: InterestLog;
  cluster: InterestLog;
  idealRatio: number;
  targetRatio: number;
}

/** One configuration of the in-process publish throughput step. */
export interface ThroughputRun {
  label: string;
  round: number;
  redis: 'single-node' | 'cluster';
  shards: number | null;
  waitReplicas: number;
  inFlight: number;
  messages: number;
  failed: number;
  elapsedMs: number;
  perSecond: number;
  latency: LatencySummary;
  /** CPU used during the publishes: the publishing Node process, and all redis-servers. */
  nodeCpuMs: number;
  redisCpuMs: number;
  /** The machine's 1-minute load average after the run: what else wanted its cores. */
  loadAverage: number;
}

export interface ThroughputResult {
  /** Publishes before the measured ones, in the same child. */
  warmup: number;
  dataBytes: number;
  runs: ThroughputRun[];
  /**
   * Cluster (no WAIT) msg/s over single node msg/s, both at the full number in flight: the
   * median over the rounds of each round's ratio.
   */
  clusterOverSingle: number | null;
  targetRatio: number;
}

export interface ClusterBenchResult {
  interest: InterestResult | null;
  throughput: ThroughputResult | null;
  problems: string[];
}
