/**
 * Messages between the bench controller and its load-generator processes (child_process.fork,
 * 'advanced' serialization, so typed arrays cross as they are).
 */

/** probe: parses every frame and records latency; sink: reads nothing once connected (counted
 * later, in a drain); stalled: never reads again once connected. */
export type ConnKind = 'probe' | 'sink' | 'stalled';

export interface ConnSpec {
  /** Connection number: its client id is `c<idx>`. */
  readonly idx: number;
  readonly port: number;
  readonly kind: ConnKind;
}

/** What a connection asks for, and when it counts as open. */
export interface StreamTarget {
  /** Path of the stream, e.g. `/sse/msg`; `?token=` is appended. */
  readonly path: string;
  /** Open once the response's headers are in (a stream that sends nothing), not at `connected`. */
  readonly openOnHeaders: boolean;
}

/**
 * Clients told to come back within a window: the i-th of n connects at i/n of `jitterMs`; one
 * turned away (a reset, a refusal) tries again after `retryMs`, as an EventSource does.
 */
export interface Spread {
  readonly jitterMs: number;
  readonly retryMs: number;
}

export type WorkerRequest =
  | {
      readonly op: 'init';
      readonly id: number;
      readonly localAddresses: string[];
      readonly host: string;
      readonly target: StreamTarget;
    }
  | {
      readonly op: 'open';
      readonly id: number;
      readonly specs: ConnSpec[];
      readonly maxInFlight: number;
      /** Connects spread over a window instead (`maxInFlight` does not apply). */
      readonly spread?: Spread;
    }
  | {
      readonly op: 'resume';
      readonly id: number;
      readonly ports: number[];
      readonly spread: Spread;
      readonly seqStart: number;
      readonly count: number;
      readonly maxMs: number;
    }
  | { readonly op: 'collect'; readonly id: number }
  | { readonly op: 'drain'; readonly id: number; readonly quietMs: number; readonly maxMs: number }
  | { readonly op: 'live'; readonly id: number; readonly on: boolean }
  | { readonly op: 'close'; readonly id: number; readonly kind?: ConnKind }
  | { readonly op: 'storm'; readonly id: number; readonly maxInFlight: number }
  | {
      readonly op: 'release';
      readonly id: number;
      readonly quietMs: number;
      readonly maxMs: number;
    };

/** What stalled clients found once they read again: how many the server had cut off. */
export interface ReleaseResult {
  readonly stalled: number;
  readonly cutByServer: number;
  readonly bytes: number;
}

export interface OpenResult {
  readonly connected: number;
  readonly failed: number;
  /** ms from connect() to the `connected` event, one per connection that made it. */
  readonly connectMs: Float64Array;
  /** A few failure reasons, for the log. */
  readonly reasons: string[];
  readonly elapsedMs: number;
  /** Connects tried again (with a `Spread`); a connection counts as failed after its last try. */
  readonly retries: number;
}

/** How probes that lost their server resumed elsewhere. */
export interface ResumeResult extends OpenResult {
  readonly resuming: number;
  /** Those that got every message they missed. */
  readonly caughtUp: number;
  /** Repeats, messages out of order or missing, resets: over all of them. */
  readonly violations: number;
  /** ms from each one's connect() to its last missed message, one per client caught up. */
  readonly catchUpMs: Float64Array;
  /** ms from the start of the reconnects to the last client caught up. */
  readonly allCaughtUpMs: number;
}

export interface CollectResult {
  /** One row per probe-received message: connection, message seq, latency (ms). */
  readonly idx: Int32Array;
  readonly seq: Int32Array;
  readonly latencyMs: Float64Array;
  /** Wall-clock arrival of the latest message seen (hrtime ns as a string), or ''. */
  readonly lastArrivalNs: string;
  /** Connections that the server closed since the last collect, by kind. */
  readonly dropped: Record<ConnKind, number>;
  readonly open: Record<ConnKind, number>;
}

export interface DrainResult {
  /** Messages (payload markers) each non-stalled connection received since the last drain. */
  readonly idx: Int32Array;
  readonly count: Int32Array;
  readonly bytes: number;
  readonly elapsedMs: number;
}

export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string };
