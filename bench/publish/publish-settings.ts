/** What the publish step's process is asked to do. */
export interface PublishChildSettings {
  readonly redisUrl: string;
  readonly redisPid: number;
  /** Messages per measurement. */
  readonly n: number;
  /** Messages sent first, by each way, and not measured. */
  readonly warmup: number;
  /** Measurements of each way, in turns. */
  readonly reps: number;
  readonly inFlight: number;
  readonly payloadBytes: number;
  /** Messages per `publishMany()` call; `inFlight` messages are in flight in batches of it. */
  readonly batch: number;
}

/** One measurement: messages per second, and CPU per message (µs) of the process and of Redis. */
export interface Turn {
  perSecond: number;
  nodeCpuUs: number;
  redisCpuUs: number;
}

/** What it answers: its turns of each way, in order. */
export interface PublishChildReport {
  xadd: Turn[];
  publish: Turn[];
  publishMany: Turn[];
  /**
   * Script calls Redis ran during the measured `publish()`es (the presence upkeep's few too): a
   * batch is one call by design.
   */
  scriptCalls: number;
}
