import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type MessageEvent,
  type OnApplicationShutdown,
  ServiceUnavailableException,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Observable, type Subscriber, type Subscription } from 'rxjs';
import type { Audience, BusEvent } from '../bus/bus-event.js';
import { BusTransport } from '../bus/bus-transport.js';
import { ClientRouter } from '../bus/client-router.js';
import { resume } from '../bus/resume.js';
import type { StreamCursor } from '../bus/stream-cursor.js';
import { SSE_BUS_OPTIONS } from '../bus/sse-bus.constants.js';
import type { ResolvedSseBusOptions } from '../config/sse-bus.options.js';
import { BusMetrics, type TurnAwayReason } from '../metrics/bus-metrics.js';
import { BusStream, type StreamHost } from './bus-stream.js';
import { FRAMES } from './event-frames.js';
import { Heartbeat } from './heartbeat.js';
import { MESSAGE_EVENTS, NestEventSink } from './message-events.js';
import { ResponseWriter } from './response-writer.js';
import { SocketBacklog } from './socket-backlog.js';
import { jitter } from './stream-encoding.js';
import type { RawStreamRequest } from './stream-request.js';

/** How often, while the server closes, connections that went idle are closed. */
const IDLE_SWEEP_MS = 50;

/** One stream: whose it is, what it subscribed to, and where it resumes from. */
export interface StreamSpec extends Audience {
  readonly lastEventId?: string;
  /** When the token it was opened with expires (epoch ms): the stream ends then. */
  readonly expiresAt?: number;
}

/**
 * An app's own stream as Nest gets it, until Nest subscribes: what opening it takes, in fields.
 * Nest holds it as long as the stream is open, so a closure and its scopes would cost more.
 */
class NestEvents extends Observable<MessageEvent> {
  constructor(
    subscribe: (this: NestEvents, subscriber: Subscriber<MessageEvent>) => void,
    readonly service: SseStreamService,
    readonly socket: Socket | undefined,
    readonly spec: StreamSpec,
  ) {
    // RxJS calls it on the Observable subscribed to: this one.
    super(
      subscribe as (this: Observable<MessageEvent>, subscriber: Subscriber<MessageEvent>) => void,
    );
  }
}

/**
 * Opens and ends the event streams of this instance's clients: `GET /sse/msg`'s, written as
 * bytes, and apps' own `@Sse()` endpoints', handed to Nest as `MessageEvent`s. It keeps the open
 * ones, which the shared heartbeat and the shutdown go through: one clock and one set for the
 * process, rather than two subscriptions per stream.
 */
@Injectable()
export class SseStreamService
  implements BeforeApplicationShutdown, OnApplicationShutdown, StreamHost
{
  private readonly logger = new Logger(SseStreamService.name);
  private readonly streams = new Set<BusStream<unknown>>();
  private beats: Subscription | undefined;
  private closing = false;
  private idleSweep: NodeJS.Timeout | undefined;

  constructor(
    private readonly router: ClientRouter,
    private readonly transport: BusTransport,
    private readonly heartbeat: Heartbeat,
    private readonly adapterHost: HttpAdapterHost,
    private readonly metrics: BusMetrics,
    @Inject(SSE_BUS_OPTIONS) private readonly options: ResolvedSseBusOptions,
  ) {}

  /** Open streams on this instance. */
  get openStreams(): number {
    return this.streams.size;
  }

  /** Whether the instance is shutting down. */
  get draining(): boolean {
    return this.closing;
  }

  /**
   * Whether a new stream may open now: not while shutting down, nor past `maxConnections`. One
   * that may not is counted as turned away.
   */
  admit(): boolean {
    const refused: TurnAwayReason | undefined = this.closing
      ? 'shutdown'
      : this.streams.size >= this.options.maxConnections
        ? 'full'
        : undefined;
    if (refused) this.metrics.streamsTurnedAway[refused]++;
    return refused === undefined;
  }

  /** A backed-off delay, with jitter, for a client turned away. */
  busyRetryMs(): number {
    return jitter(this.options.retryMs * 5, this.options.reconnectJitterMs);
  }

  /**
   * Streams to `response` what the client may see; the stream lives until the client leaves,
   * and its teardown releases everything it holds.
   */
  open(response: ServerResponse, headers: OutgoingHttpHeaders, spec: StreamSpec): void {
    const writer = new ResponseWriter(response, headers, this.options.maxBufferedBytes);
    if (writer.bodiless) return writer.end(false);
    const stream = new BusStream(this, FRAMES, writer, spec);
    this.start(stream, spec);
    stream.add(writer.onClose(() => stream.unsubscribe()));
  }

  /** A stream that only says "busy, come back later" and ends. */
  turnAway(response: ServerResponse, headers: OutgoingHttpHeaders): void {
    const writer = new ResponseWriter(response, headers, this.options.maxBufferedBytes);
    if (!writer.bodiless) writer.write(FRAMES.busy(this.busyRetryMs(), ''));
    writer.end(false);
  }

  /**
   * The stream of an app's own `@Sse()` endpoint, for Nest to write: the same events, ids,
   * heartbeat, limits and end as `GET /sse/msg`'s. `request` is the one the handler was given.
   */
  events(request: RawStreamRequest, spec: StreamSpec): Observable<MessageEvent> {
    if (!this.admit()) {
      // Browsers give up for good on any status but 200: they get a stream saying "busy".
      if (!request.headers.accept?.includes('text/event-stream')) {
        throw new ServiceUnavailableException('Too many streams on this instance; retry later');
      }
      const busy = MESSAGE_EVENTS.busy(
        this.busyRetryMs(),
        spec.lastEventId ?? this.transport.position(spec),
      );
      return new Observable((subscriber) => {
        subscriber.next(busy);
        subscriber.complete();
      });
    }
    // On HTTP/1 the socket is the stream's own, so what waits for the client can be counted.
    const socket = (request.httpVersionMajor === 1 && request.socket) || undefined;
    return new NestEvents(SseStreamService.openEvents, this, socket, spec);
  }

  /** Nest subscribes to an app's own stream: it starts. */
  private static openEvents(this: NestEvents, subscriber: Subscriber<MessageEvent>): void {
    const { service, socket, spec } = this;
    const backlog = socket && new SocketBacklog(socket, service.options.maxBufferedBytes);
    const sink = new NestEventSink(subscriber, backlog);
    const stream = new BusStream(service, MESSAGE_EVENTS, sink, spec);
    // Nest's unsubscribing, when the client leaves, releases the stream.
    subscriber.add(stream);
    service.start(stream, spec);
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
    this.metrics.streamsClosed[stream.closeReason]++;
    this.logger.debug(`Stream of ${stream.clientId} closed: ${stream.closeReason}`);
    // The clock runs while a stream listens, and stops with the last one.
    if (this.streams.size === 0) {
      this.beats?.unsubscribe();
      this.beats = undefined;
    }
  }

  /** Counts `stream` in, and starts it: what it missed first, when it resumes, then live events. */
  private start(stream: BusStream<unknown>, spec: StreamSpec): void {
    this.streams.add(stream);
    this.metrics.streamsOpened++;
    this.logger.debug(`Stream of ${stream.clientId} opened`);
    this.beats ??= this.heartbeat.beat$.subscribe(() => {
      for (const each of this.streams) each.heartbeat();
    });
    // The stream is its own audience: the router keeps no other object for it.
    const cursor = this.transport.cursor(stream, spec.lastEventId);
    stream.open(cursor);
    const begin = () => {
      if (stream.closed) return;
      const events$ = spec.lastEventId
        ? this.viewOf(stream, spec.lastEventId, cursor, () => stream.whenWritable())
        : this.router.view(stream);
      // Read in the same turn as the bus is subscribed: nothing can come in between.
      stream.start(events$, this.options.retryMs, !!spec.lastEventId, spec.expiresAt);
    };
    if (cursor.ready) cursor.ready.then(begin, (err: Error) => stream.error(err));
    else begin();
  }

  private viewOf(
    audience: Audience,
    lastEventId: string,
    cursor: StreamCursor,
    pace: () => Promise<void> | undefined,
  ): Observable<BusEvent> {
    const live$ = this.router.view(audience);
    return resume(live$, this.transport, audience, lastEventId, cursor, pace, this.metrics);
  }

  slow(audience: Audience): void {
    this.logger.warn(`Client ${audience.clientId} is not reading: disconnected`);
  }
}
