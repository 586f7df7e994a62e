/** What the steering load process is asked to do (see `steer-one.ts`). */
export interface SteerOneSettings {
  readonly port: number;
  /** The server's pid: its CPU is read from /proc around the measured changes. */
  readonly serverPid: number;
  /** The client whose topics change: it has `streams` streams open, this process's own. */
  readonly clientId: string;
  readonly streams: number;
  /** Join/leave pairs done first, not measured. */
  readonly warmupPairs: number;
  /** Join/leave pairs measured. */
  readonly pairs: number;
  /** The topic joined and left. */
  readonly topic: string;
}

/** One measurement of one client's changes, each waited for on every stream of it. */
export interface SteerOneReport {
  /** Changes measured: two a pair. */
  readonly changes: number;
  readonly elapsedMs: number;
  /** Server CPU per change (µs): the request, the change in the log, and its `topics` events. */
  readonly serverCpuUsPerChange: number;
  /** From sending the request to the last of the client's streams having its `topics` event. */
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** The steering step (see `steering-step.ts`). */
export interface SteeringConfig {
  /** Open streams, each of its own client, beside the steered client's: a few, and many. */
  readonly streams: [number, number];
  /** Streams of the client whose topics change. */
  readonly clientStreams: number;
  /** Join/leave pairs a measurement, after `warmupPairs`; `reps` measurements at each level. */
  readonly pairs: number;
  readonly warmupPairs: number;
  readonly reps: number;
  /** The throughput measurement: changes of the many clients' topics, `concurrency` at once. */
  readonly requests: number;
  readonly warmup: number;
  readonly concurrency: number;
}
