import type { ServerResponse } from 'node:http';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type MessageEvent,
} from '@nestjs/common';
import {
  EMPTY,
  type Observable,
  Subject,
  catchError,
  concat,
  defer,
  endWith,
  finalize,
  map,
  merge,
  of,
  takeUntil,
  timer,
} from 'rxjs';
import type { ClientIdentity } from '../auth/client-identity.js';
import { MessageBus } from '../bus/message-bus.js';
import { SSE_BUS_OPTIONS } from '../bus/sse-bus.constants.js';
import type { ResolvedSseBusOptions } from '../config/sse-bus.options.js';
import { busyFrame, connectedFrame, frameOf, jitter, retryFrame } from './event-frames.js';
import { Heartbeat } from './heartbeat.js';
import { ResponseWriter } from './response-writer.js';

/**
 * Builds the stream of each connection: `retry` and `connected`, then what the client may see
 * from the bus (what it missed first, when it resumes) merged with the shared heartbeat.
 * Unsubscribing, which Nest does when the client leaves, releases everything it holds.
 */
@Injectable()
export class SseStreamService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(SseStreamService.name);
  private readonly closing$ = new Subject<void>();
  private draining = false;
  private streams = 0;

  constructor(
    private readonly bus: MessageBus,
    private readonly heartbeat: Heartbeat,
    @Inject(SSE_BUS_OPTIONS) private readonly options: ResolvedSseBusOptions,
  ) {}

  /** Open streams on this instance. */
  get openStreams(): number {
    return this.streams;
  }

  /** Whether a new stream may open now: not while shutting down, nor past `maxConnections`. */
  admits(): boolean {
    return !this.draining && this.streams < this.options.maxConnections;
  }

  /** A backed-off delay, with jitter, for a client turned away. */
  busyRetryMs(): number {
    return jitter(this.options.retryMs * 5, this.options.reconnectJitterMs);
  }

  open(
    response: ServerResponse,
    client: ClientIdentity,
    lastEventId?: string,
  ): Observable<MessageEvent> {
    return defer(() => {
      this.streams++;
      const writer = new ResponseWriter(response, this.options.maxBufferedBytes, () =>
        this.logger.warn(`Client ${client.clientId} is not reading: disconnected`),
      );
      // Read in the same turn as the bus is subscribed: nothing can come in between.
      const opening = of(
        retryFrame(this.options.retryMs),
        connectedFrame(client.clientId, lastEventId ? undefined : this.bus.position()),
      );
      const events$ = this.bus
        .stream(client.clientId, lastEventId, () => writer.whenWritable())
        .pipe(map(frameOf));
      const ending$ =
        client.expiresAt === undefined
          ? this.closing$
          : merge(this.closing$, timer(Math.max(0, client.expiresAt - Date.now())));
      return concat(opening, merge(events$, this.heartbeat.beat$)).pipe(
        // An error never reaches the client as an `error` frame (Nest would end the stream and
        // the browser retry in a loop): the stream ends, and the client resumes after `retry`.
        catchError((err: Error) => {
          this.logger.warn(`Stream of ${client.clientId} ended: ${err.message}`);
          return EMPTY;
        }),
        takeUntil(ending$),
        endWith(retryFrame(jitter(this.options.retryMs, this.options.reconnectJitterMs))),
        writer.writeAll(),
        finalize(() => {
          this.streams--;
          // Left open, the idle connection would hold the server's close until keep-alive expires.
          if (this.draining) response.once('finish', () => response.socket?.end());
        }),
      );
    });
  }

  /** A stream that only says "busy, come back later" and ends. */
  turnAway(response: ServerResponse): Observable<MessageEvent> {
    const writer = new ResponseWriter(response, this.options.maxBufferedBytes, () => undefined);
    return of(busyFrame(this.busyRetryMs())).pipe(writer.writeAll());
  }

  /** Ends every stream, each with its own `retry`, so clients come back spread out. */
  beforeApplicationShutdown(): void {
    this.draining = true;
    this.closing$.next();
  }
}
