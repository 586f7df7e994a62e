/** What the publish step's process is asked to do. */
export interface PublishChildSettings {
  readonly redisUrl: string;
  /** Messages per measurement. */
  readonly n: number;
  /** Messages sent first, by each way, and not measured. */
  readonly warmup: number;
  /** Measurements of each way, in turns. */
  readonly reps: number;
  readonly inFlight: number;
  readonly payloadBytes: number;
}

/** What it answers. */
export interface PublishChildReport {
  xaddPerSecond: number[];
  publishPerSecond: number[];
  /** Script calls Redis ran during the measured publishes (and the presence upkeep's few). */
  scriptCalls: number;
}
