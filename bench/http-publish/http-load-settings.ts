/** What the HTTP publish load process is asked to do. */
export interface HttpLoadSettings {
  readonly port: number;
  /** The server's pid: its CPU is read from /proc around the measured requests. */
  readonly serverPid: number;
  /** Keep-alive connections, each with one request in flight. */
  readonly concurrency: number;
  /** Requests sent first, not measured. */
  readonly warmup: number;
  /** Requests measured. */
  readonly requests: number;
  /** Messages per request: 1 is a single publish's object body, more an array of that many. */
  readonly batch: number;
  /** Recipients are `c0` … `c<clients - 1>`, in turn. */
  readonly clients: number;
  /** Bytes of each message's data, about. */
  readonly payloadBytes: number;
  /**
   * `topics`: each request is a change of its recipient's topics instead (`POST
   * /sse/clients/:clientId/topics`, a join of one topic, then its leave the next time round).
   * Unset: `POST /sse/publish`.
   */
  readonly route?: 'topics';
}

/** One measurement: server CPU per request and per message (µs), and throughput. */
export interface HttpLoadReport {
  readonly requests: number;
  readonly messages: number;
  /** Requests not answered 202, or that failed. */
  readonly failed: number;
  readonly elapsedMs: number;
  readonly serverCpuUsPerRequest: number;
  readonly serverCpuUsPerMessage: number;
  readonly messagesPerSecond: number;
}
