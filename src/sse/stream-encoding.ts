import type { BusEvent } from '../bus/bus-event.js';

/**
 * How one kind of stream puts what it sends: as bytes for `GET /sse/msg`, as `MessageEvent`s
 * for an app's own `@Sse()` endpoint. Whatever carries an id carries a bus id.
 */
export interface StreamEncoding<T> {
  /**
   * `retry` and `connected`, which say who the client is; `id` is where its stream starts, which
   * is the client's own Last-Event-ID when it `resumes`.
   */
  opening(retryMs: number, clientId: string, id: string, resumes: boolean): readonly T[];
  /**
   * A bus event with the id it has on this stream: encoded once per process however many streams
   * carry it, and when its id is the stream's own, the rest of it still is.
   */
  event(event: BusEvent, id: string): T;
  /** The stream's topics now, after a change of its client's (`topics`), with its id. */
  topics(topics: ReadonlySet<string> | null, id: string): T;
  /** A comment, which clients ignore and proxies count as traffic. */
  readonly heartbeat: T;
  /** The last word of a stream that ends: its own `retry`; `lastId` is the last id it sent. */
  closing(retryMs: number, lastId: string): T;
  /** The instance is full or closing: come back after `retryMs`. */
  busy(retryMs: number, id: string): T;
}

/** The data of a `topics` event: `{"topics": [...]}`, sorted. */
export function topicsData(topics: ReadonlySet<string> | null): string {
  return JSON.stringify({ topics: [...(topics ?? [])].sort() });
}
