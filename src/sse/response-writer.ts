import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { SseFrame } from './sse-frame.js';
import { type Corkable, corkUntilTurnEnds, currentTurn } from './turn-cork.js';

/** In lower case, the names Fastify uses: a header it set is overridden, not sent twice. */
const SSE_HEADERS: OutgoingHttpHeaders = {
  'content-type': 'text/event-stream',
  'cache-control': 'private, no-cache, no-store, must-revalidate, max-age=0, no-transform',
  pragma: 'no-cache',
  expires: '0',
  // Proxies that buffer responses (nginx) would hold the events back.
  'x-accel-buffering': 'no',
};

/** What of the response the writer writes to: it counts what waits there. */
interface Sink extends Corkable {
  readonly writableLength: number;
  readonly destroyed: boolean;
  write(bytes: Buffer): boolean;
  destroy(): void;
  on(event: 'drain' | 'close', listener: () => void): this;
  off(event: 'drain' | 'close', listener: () => void): this;
}

/**
 * Writes an event stream to one response: the headers at once, then frames as bytes built once
 * per process. On HTTP/1 they go straight to the socket with their chunk framing, which spares
 * the per-write work of `response.write()`; elsewhere (HTTP/2) through the response. The first
 * frame of a turn of the event loop leaves at once; more in the same turn (a batch read from
 * Redis, a page of history) are held back and leave together at the end of the turn, in one write.
 *
 * A client whose unsent bytes pass `maxBufferedBytes` is disconnected: it will reconnect and
 * resume, rather than make the process hold a growing backlog for it.
 */
export class ResponseWriter {
  private readonly socket: Socket | null;
  private readonly sink: Sink;
  private readonly chunked: boolean;
  private drained: Promise<void> | undefined;
  private writtenIn = -1;
  private corkedIn = -1;

  constructor(
    private readonly response: ServerResponse,
    headers: OutgoingHttpHeaders,
    private readonly maxBufferedBytes: number,
  ) {
    const socket = (this.socket = response.req.httpVersionMajor === 1 ? response.socket : null);
    // A connection-level header, which HTTP/2 forbids.
    const connection = socket && { connection: 'keep-alive' };
    response.writeHead(200, { ...lowerCaseNames(headers), ...SSE_HEADERS, ...connection });
    response.flushHeaders();
    // Idle between events for minutes, and a dead peer is noticed by TCP keep-alive.
    socket?.setTimeout(0).setKeepAlive(true).setNoDelay(true);
    this.sink = socket ?? (response as unknown as { stream: Sink }).stream;
    this.chunked = socket !== null && response.chunkedEncoding;
  }

  /** Whether the client asked for the headers only (`HEAD`), or has gone already. */
  get bodiless(): boolean {
    return this.response.req.method === 'HEAD' || this.sink.destroyed;
  }

  /** Returns false when this cut the client off, for not reading what waits for it. */
  write(frame: SseFrame): boolean {
    const sink = this.sink;
    if (sink.destroyed) return true;
    const turn = currentTurn();
    if (this.writtenIn !== turn) this.writtenIn = turn;
    else if (this.corkedIn !== turn) {
      this.corkedIn = turn;
      corkUntilTurnEnds(sink);
    }
    sink.write(this.chunked ? frame.chunk : frame.bytes);
    if (sink.writableLength <= this.maxBufferedBytes) return true;
    sink.destroy();
    return false;
  }

  /**
   * Ends the response; with `closeConnection`, an HTTP/1 connection too, once the response is out
   * (an idle keep-alive connection would hold up the server's close).
   */
  end(closeConnection: boolean): void {
    if (closeConnection) this.response.once('finish', () => this.socket?.end());
    this.response.end();
  }

  /** Calls `listener` once the client is gone, however the stream ended; returns how to stop. */
  onClose(listener: () => void): () => void {
    this.sink.on('close', listener);
    return () => this.sink.off('close', listener);
  }

  /**
   * Undefined while the client keeps up; otherwise a promise that settles once it has read
   * enough (or left), for producers that can wait, like a history replay.
   */
  whenWritable(): Promise<void> | undefined {
    const sink = this.sink;
    if (sink.writableLength < this.maxBufferedBytes / 2 || sink.destroyed) return undefined;
    this.drained ??= new Promise<void>((resolve) => {
      const done = () => {
        sink.off('drain', done).off('close', done);
        this.drained = undefined;
        resolve();
      };
      sink.on('drain', done).on('close', done);
    });
    return this.drained;
  }
}

function lowerCaseNames(headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
}
