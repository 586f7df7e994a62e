import {
  type BeforeApplicationShutdown,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { type Subscription, interval } from 'rxjs';
import type { Audience } from '../bus/bus-event.js';
import { ClientGate, type Verdict } from '../bus/client-gate.js';
import { StreamFeeds } from '../bus/stream-feed.js';
import { type ResolvedSseBusOptions, SSE_BUS_OPTIONS } from '../config/sse-bus.options.js';
import type { RawStreamRequest } from '../http/platform.js';
import { BusStream, type CloseReason, type StreamHost, type StreamSink } from './bus-stream.js';
import type { StreamEncoding } from './stream-encoding.js';

/**
 * Why a stream was not opened: the instance was full, or shutting down, or its client had too
 * many, or was blocked.
 */
export type TurnAwayReason = 'full' | 'shutdown' | 'client' | 'blocked';

/** Browsers turned away get a stream that says `busy` (EventSource gives up on any other status). */
export type Admission = 'open' | 'busy' | 'refused';

/** One stream: whose it is, what it subscribed to, and where it resumes from. */
export interface StreamSpec extends Audience {
  readonly lastEventId?: string;
  /** When the token it was opened with expires (epoch ms): the stream ends then. */
  readonly expiresAt?: number;
}

/** How often, while the server closes, connections that went idle are closed. */
const IDLE_SWEEP_MS = 50;

/**
 * Every open stream of this instance, whichever way it is written (`GET /sse/msg`'s bytes, an
 * app's own `@Sse()` events): whether one may open, one heartbeat clock for all of them rather
 * than a timer each, and the end of all of them at shutdown. It counts them as they open, end
 * and are turned away.
 */
@Injectable()
export class StreamRegistry
  implements BeforeApplicationShutdown, OnApplicationShutdown, StreamHost
{
  private readonly logger = new Logger(StreamRegistry.name);
  private readonly streams = new Set<BusStream<unknown>>();
  /**
   * Open streams by client id, counted from when a stream opens rather than from when it joins
   * the bus (after an asynchronous lease on a cluster), so that a burst cannot pass the limit.
   */
  private readonly perClient = new Map<string, number>();
  opened = 0;
  readonly closed: Record<CloseReason, number> = {
    client: 0,
    slow: 0,
    expired: 0,
    shutdown: 0,
    error: 0,
    disconnected: 0,
  };
  readonly turnedAway: Record<TurnAwayReason, number> = {
    full: 0,
    shutdown: 0,
    client: 0,
    blocked: 0,
  };
  private beats: Subscription | undefined;
  private closing = false;
  private idleSweep: NodeJS.Timeout | undefined;

  constructor(
    private readonly feeds: StreamFeeds,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(SSE_BUS_OPTIONS) private readonly options: ResolvedSseBusOptions,
    private readonly gate: ClientGate,
  ) {}

  get size(): number {
    return this.streams.size;
  }

  get draining(): boolean {
    return this.closing;
  }

  get retryMs(): number {
    return this.options.retryMs;
  }

  /** Bytes a stream may have waiting for its client; past it, the client is cut off. */
  get maxBufferedBytes(): number {
    return this.options.maxBufferedBytes;
  }

  /**
   * Whether a stream of `request` for `clientId` may open now: not while shutting down, nor past
   * `maxConnections`. One that may not is counted as turned away. Throws 429 when the client has
   * `maxStreamsPerClient` open already on this instance (`clear` counts all instances): coming
   * back later would not help it, unlike a full instance, so even a browser gets the status (and
   * its EventSource stops).
   */
  admit(request: RawStreamRequest, clientId: string): Admission {
    const { maxStreamsPerClient } = this.options;
    // This instance's own count is exact and costs nothing: a first check before all instances'.
    if (maxStreamsPerClient > 0 && (this.perClient.get(clientId) ?? 0) >= maxStreamsPerClient) {
      throw this.tooMany();
    }
    const refused: TurnAwayReason | undefined = this.closing
      ? 'shutdown'
      : this.streams.size >= this.options.maxConnections
        ? 'full'
        : undefined;
    if (!refused) return 'open';
    this.turnedAway[refused]++;
    return request.headers.accept?.includes('text/event-stream') ? 'busy' : 'refused';
  }

  /**
   * What every instance says of a stream of `clientId` that `admit` let through: `open`, or
   * `blocked` (a block is on); throws 429 when the client has `maxStreamsPerClient` open over all
   * instances. Once it says `open`, open the stream at once, or `withdraw` it.
   */
  async clear(clientId: string): Promise<'open' | 'blocked'> {
    // Counted from now, so that a burst of streams on this instance cannot pass the limit.
    this.count(clientId, 1);
    let verdict: Verdict;
    try {
      const streams = this.perClient.get(clientId)!;
      verdict = await this.gate.admit(clientId, streams, this.options.maxStreamsPerClient);
    } finally {
      this.count(clientId, -1);
    }
    if (verdict === 'full') throw this.tooMany();
    if (verdict === 'blocked') this.turnedAway.blocked++;
    return verdict;
  }

  /** A stream that `clear` let through does not open after all (its client left meanwhile). */
  withdraw(clientId: string): void {
    this.gate.released(clientId, this.perClient.get(clientId) ?? 0);
  }

  /** A backed-off delay, with jitter, for a client turned away. */
  busyRetryMs(): number {
    return jitter(this.options.retryMs * 5, this.options.reconnectJitterMs);
  }

  /** Where a stream of `spec` starts: the id a `busy` answer carries. */
  position(spec: StreamSpec): string {
    return spec.lastEventId ?? this.feeds.position(spec);
  }

  /**
   * Opens a stream of `spec` that writes to `sink` as `encoding` says: from the bus's feed, what
   * it missed first when it resumes, then live events. It lives until it is unsubscribed (its
   * client leaves) or ends, and its teardown releases everything it holds.
   */
  open<T>(encoding: StreamEncoding<T>, sink: StreamSink<T>, spec: StreamSpec): BusStream<T> {
    const stream = new BusStream(this, encoding, sink, spec);
    this.streams.add(stream);
    this.count(spec.clientId, 1);
    this.opened++;
    this.logger.debug(`Stream of ${stream.clientId} opened`);
    this.beats ??= interval(this.options.heartbeatMs).subscribe(() => {
      for (const each of this.streams) each.heartbeat();
    });
    if (spec.expiresAt !== undefined) stream.expireAt(spec.expiresAt);
    // The stream is its own audience and reader: the bus keeps no other object for it.
    this.feeds.feed(stream, spec.lastEventId, stream).subscribe(stream);
    return stream;
  }

  /**
   * Ends every stream, each with its own `retry`, so clients come back spread out. A stream's
   * keep-alive connection goes idle only once the end is written, after the server has begun
   * to close: until the server is closed, idle connections are closed as they appear, or one
   * would hold the close until it timed out.
   */
  beforeApplicationShutdown(): void {
    this.closing = true;
    for (const stream of this.streams) stream.end('shutdown');
    const server = this.adapterHost.httpAdapter?.getHttpServer() as
      { closeIdleConnections?(): void } | undefined;
    if (server?.closeIdleConnections) {
      this.idleSweep = setInterval(() => server.closeIdleConnections!(), IDLE_SWEEP_MS).unref();
    }
  }

  onApplicationShutdown(): void {
    clearInterval(this.idleSweep);
  }

  closingRetryMs(): number {
    return jitter(this.options.retryMs, this.options.reconnectJitterMs);
  }

  failed(stream: BusStream<unknown>, err: Error): void {
    this.logger.warn(`Stream of ${stream.clientId} ended: ${err.message}`);
  }

  released(stream: BusStream<unknown>): void {
    if (!this.streams.delete(stream)) return;
    const left = this.count(stream.clientId, -1);
    if (this.options.maxStreamsPerClient > 0) this.gate.released(stream.clientId, left);
    this.closed[stream.closeReason]++;
    this.logger.debug(`Stream of ${stream.clientId} closed: ${stream.closeReason}`);
    if (stream.closeReason === 'slow') {
      this.logger.warn(`Client ${stream.clientId} is not reading: disconnected`);
    }
    // The clock runs while a stream listens, and stops with the last one.
    if (this.streams.size === 0) {
      this.beats?.unsubscribe();
      this.beats = undefined;
    }
  }

  /** Adds `delta` to the streams of `clientId` on this instance; returns how many it has. */
  private count(clientId: string, delta: number): number {
    const streams = (this.perClient.get(clientId) ?? 0) + delta;
    if (streams === 0) this.perClient.delete(clientId);
    else this.perClient.set(clientId, streams);
    return streams;
  }

  private tooMany(): HttpException {
    const { maxStreamsPerClient } = this.options;
    this.turnedAway.client++;
    return new HttpException(
      `This client has ${maxStreamsPerClient} streams open, the most it may have`,
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}

/** A random delay from `baseMs` to `baseMs + spreadMs`, so clients do not all return at once. */
function jitter(baseMs: number, spreadMs: number): number {
  return baseMs + Math.floor(Math.random() * (spreadMs + 1));
}
