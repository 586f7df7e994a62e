import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
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
import { Observable, Subject } from 'rxjs';
import type { Audience, BusEvent } from '../bus/bus-event.js';
import { BusTransport } from '../bus/bus-transport.js';
import { ClientRouter } from '../bus/client-router.js';
import { parseCursor } from '../bus/cursor.js';
import { resume } from '../bus/resume.js';
import { SSE_BUS_OPTIONS } from '../bus/sse-bus.constants.js';
import type { ResolvedSseBusOptions } from '../config/sse-bus.options.js';
import { BusMetrics, type CloseReason, type TurnAwayReason } from '../metrics/bus-metrics.js';
import { FRAMES } from './event-frames.js';
import { Heartbeat } from './heartbeat.js';
import { MESSAGE_EVENTS, wireBytesAtLeast } from './message-events.js';
import { ResponseWriter } from './response-writer.js';
import { SocketBacklog } from './socket-backlog.js';
import { type StreamEncoding, jitter } from './stream-encoding.js';
import type { RawStreamRequest } from './stream-request.js';

/** The longest delay `setTimeout` takes; a longer one would fire at once. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;
/** How often, while the server closes, connections that went idle are closed. */
const IDLE_SWEEP_MS = 50;

/** One stream: whose it is, what it subscribed to, and where it resumes from. */
export interface StreamSpec extends Audience {
  readonly lastEventId?: string;
  /** When the token it was opened with expires (epoch ms): the stream ends then. */
  readonly expiresAt?: number;
}

/** How a stream learns that its client is falling behind. */
interface Pacing<T> {
  /** Undefined while the client keeps up; otherwise settles once it has read enough. */
  whenWritable(): Promise<void> | undefined;
  /** Called with each item the stream sends. */
  sent?(item: T): void;
  /** Whether the client was cut off for falling too far behind. */
  readonly overflowed?: boolean;
}

const KEEPS_UP: Pacing<unknown> = { whenWritable: () => undefined };

/**
 * Opens and ends the event streams of this instance's clients, and counts them: `GET /sse/msg`'s,
 * written as bytes, and apps' own `@Sse()` endpoints', handed to Nest as `MessageEvent`s.
 */
@Injectable()
export class SseStreamService implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(SseStreamService.name);
  /** Ends every open stream, saying why. */
  private readonly closing$ = new Subject<CloseReason>();
  private draining = false;
  private streams = 0;
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
    return this.streams;
  }

  /**
   * Whether a new stream may open now: not while shutting down, nor past `maxConnections`. One
   * that may not is counted as turned away.
   */
  admit(): boolean {
    const refused: TurnAwayReason | undefined = this.draining
      ? 'shutdown'
      : this.streams >= this.options.maxConnections
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
   * What a stream may see: live from now on, or first what it missed after `lastEventId`.
   * @param pace called after each replayed message (see `resume`).
   */
  view(spec: StreamSpec, pace: () => Promise<void> | undefined = () => undefined) {
    const live$ = this.router.view({ clientId: spec.clientId, topics: spec.topics });
    return spec.lastEventId
      ? resume(live$, this.transport, spec, spec.lastEventId, pace, this.metrics)
      : live$;
  }

  /**
   * Streams to `response` what the client may see; the stream lives until the client leaves,
   * and its teardown releases everything it holds.
   */
  open(response: ServerResponse, headers: OutgoingHttpHeaders, spec: StreamSpec): void {
    const writer = new ResponseWriter(response, headers, this.options.maxBufferedBytes, () =>
      this.slow(spec),
    );
    if (writer.bodiless) return writer.end(false);
    const subscription = this.stream(FRAMES, spec, writer).subscribe({
      next: (frame) => writer.write(frame),
      complete: () => writer.end(this.draining),
    });
    subscription.add(writer.onClose(() => subscription.unsubscribe()));
  }

  /** A stream that only says "busy, come back later" and ends. */
  turnAway(response: ServerResponse, headers: OutgoingHttpHeaders): void {
    const writer = new ResponseWriter(response, headers, this.options.maxBufferedBytes, () => {});
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
      const busy = MESSAGE_EVENTS.busy(this.busyRetryMs(), this.startId(spec));
      return new Observable((subscriber) => {
        subscriber.next(busy);
        subscriber.complete();
      });
    }
    // On HTTP/1 the socket is the stream's own, so what waits for the client can be counted.
    const socket = request.httpVersionMajor === 1 ? request.socket : null;
    if (!socket) return this.stream<MessageEvent>(MESSAGE_EVENTS, spec, KEEPS_UP);
    return new Observable<MessageEvent>((subscriber) => {
      const backlog = new SocketBacklog(socket, this.options.maxBufferedBytes, () =>
        this.slow(spec),
      );
      return this.stream(MESSAGE_EVENTS, spec, {
        whenWritable: () => backlog.whenWritable(),
        sent: (event) => backlog.add(wireBytesAtLeast(event)),
        get overflowed() {
          return backlog.overflowed;
        },
      }).subscribe(subscriber);
    });
  }

  /**
   * Ends every stream, each with its own `retry`, so clients come back spread out. A stream's
   * keep-alive connection goes idle only once the end is written, after the server has begun
   * to close: until the server is closed, idle connections are closed as they appear, or one
   * would hold the close until it timed out.
   */
  beforeApplicationShutdown(): void {
    this.draining = true;
    this.closing$.next('shutdown');
    const server = this.adapterHost.httpAdapter?.getHttpServer() as
      { closeIdleConnections?(): void } | undefined;
    if (server?.closeIdleConnections) {
      this.idleSweep = setInterval(() => server.closeIdleConnections!(), IDLE_SWEEP_MS).unref();
    }
  }

  onApplicationShutdown(): void {
    clearInterval(this.idleSweep);
  }

  /**
   * The items of one stream: `retry` and `connected`, then what the client may see from the bus
   * (what it missed first, when it resumes) merged with the shared heartbeat. Written as one
   * Observable rather than a chain of operators: it is held once per open stream, and each
   * operator would hold its own subscriber.
   */
  private stream<T>(
    encoding: StreamEncoding<T>,
    spec: StreamSpec,
    pacing: Pacing<T>,
  ): Observable<T> {
    return new Observable<T>((subscriber) => {
      this.streams++;
      this.metrics.streamsOpened++;
      const sent = pacing.sent;
      const send = sent
        ? (item: T) => {
            subscriber.next(item);
            sent(item);
          }
        : (item: T) => subscriber.next(item);
      // Read in the same turn as the bus is subscribed: nothing can come in between.
      let lastId = this.startId(spec);
      this.logger.debug(`Stream of ${spec.clientId} opened at ${lastId}`);
      encoding.opening(this.options.retryMs, spec.clientId, lastId).forEach(send);
      let endedBy: CloseReason | undefined;
      // Ends the stream with its own `retry`, so that clients ended together come back spread out.
      // Without a reason, the instance is shutting down (the bus completes only then).
      const end = (reason: CloseReason = 'shutdown') => {
        endedBy ??= reason;
        send(
          encoding.closing(jitter(this.options.retryMs, this.options.reconnectJitterMs), lastId),
        );
        subscriber.complete();
      };
      const subscription = this.view(spec, () => pacing.whenWritable()).subscribe({
        next: (event: BusEvent) => {
          lastId = event.id;
          send(encoding.event(event));
        },
        // An error never reaches the client as an `error` event (the browser would retry in a
        // loop): the stream ends, and the client resumes after `retry`.
        error: (err: Error) => {
          this.logger.warn(`Stream of ${spec.clientId} ended: ${err.message}`);
          end('error');
        },
        complete: end,
      });
      subscription.add(this.heartbeat.beat$.subscribe(() => send(encoding.heartbeat)));
      subscription.add(this.closing$.subscribe(end));
      // The stream ends when its token expires; the client's next connection needs a fresh one.
      const expiresIn = spec.expiresAt === undefined ? Infinity : spec.expiresAt - Date.now();
      if (expiresIn < MAX_TIMEOUT_MS) {
        const expiry = setTimeout(end, Math.max(0, expiresIn), 'expired');
        subscription.add(() => clearTimeout(expiry));
      }
      return () => {
        subscription.unsubscribe();
        this.streams--;
        const reason = endedBy ?? (pacing.overflowed ? 'slow' : 'client');
        this.metrics.streamsClosed[reason]++;
        this.logger.debug(`Stream of ${spec.clientId} closed: ${reason}`);
      };
    });
  }

  /**
   * Where a stream starts: the client's own cursor when it resumes (a `reset` follows if the
   * history cannot serve it), or the last event this instance has read.
   */
  private startId(spec: StreamSpec): string {
    const { lastEventId } = spec;
    return lastEventId && parseCursor(lastEventId) ? lastEventId : this.transport.position();
  }

  private slow(spec: StreamSpec): void {
    this.logger.warn(`Client ${spec.clientId} is not reading: disconnected`);
  }
}
