import type { ServerResponse } from 'node:http';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type MessageEvent,
} from '@nestjs/common';
import { Observable, Subject } from 'rxjs';
import type { ClientIdentity } from '../auth/client-identity.js';
import { MessageBus } from '../bus/message-bus.js';
import { SSE_BUS_OPTIONS } from '../bus/sse-bus.constants.js';
import type { ResolvedSseBusOptions } from '../config/sse-bus.options.js';
import { busyFrame, connectedFrame, frameOf, jitter, retryFrame } from './event-frames.js';
import { Heartbeat } from './heartbeat.js';
import { ResponseWriter } from './response-writer.js';
import type { SseFrame } from './sse-frame.js';

/** The longest delay `setTimeout` takes; a longer one would fire at once. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

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
  private readonly retry: SseFrame;

  constructor(
    private readonly bus: MessageBus,
    private readonly heartbeat: Heartbeat,
    @Inject(SSE_BUS_OPTIONS) private readonly options: ResolvedSseBusOptions,
  ) {
    this.retry = retryFrame(options.retryMs);
  }

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

  /**
   * The stream of one connection. Written as one Observable rather than a chain of operators:
   * it is held once per open connection, and each operator would hold its own subscriber.
   */
  open(
    response: ServerResponse,
    client: ClientIdentity,
    lastEventId?: string,
  ): Observable<MessageEvent> {
    return new Observable<MessageEvent>((subscriber) => {
      this.streams++;
      const writer = new ResponseWriter(response, this.options.maxBufferedBytes, subscriber, () =>
        this.logger.warn(`Client ${client.clientId} is not reading: disconnected`),
      );
      // Ends the stream with its own `retry`, so that clients ended together come back spread out.
      const end = () => {
        writer.write(retryFrame(jitter(this.options.retryMs, this.options.reconnectJitterMs)));
        writer.end();
      };
      writer.write(this.retry);
      // Read in the same turn as the bus is subscribed: nothing can come in between.
      writer.write(connectedFrame(client.clientId, lastEventId ? undefined : this.bus.position()));
      const subscription = this.bus
        .stream(client.clientId, lastEventId, () => writer.whenWritable())
        .subscribe({
          next: (event) => writer.write(frameOf(event)),
          // An error never reaches the client as an `error` frame (Nest would end the stream and
          // the browser retry in a loop): the stream ends, and the client resumes after `retry`.
          error: (err: Error) => {
            this.logger.warn(`Stream of ${client.clientId} ended: ${err.message}`);
            end();
          },
          complete: end,
        });
      subscription.add(this.heartbeat.beat$.subscribe((frame) => writer.write(frame)));
      subscription.add(this.closing$.subscribe(end));
      // The stream ends when its token expires; the client's next connection needs a fresh one.
      const expiresIn = client.expiresAt === undefined ? Infinity : client.expiresAt - Date.now();
      if (expiresIn < MAX_TIMEOUT_MS) {
        const expiry = setTimeout(end, Math.max(0, expiresIn));
        subscription.add(() => clearTimeout(expiry));
      }
      return () => {
        subscription.unsubscribe();
        writer.dispose();
        this.streams--;
        // Left open, the idle connection would hold the server's close until keep-alive expires.
        if (this.draining) response.once('finish', () => response.socket?.end());
      };
    });
  }

  /** A stream that only says "busy, come back later" and ends. */
  turnAway(response: ServerResponse): Observable<MessageEvent> {
    return new Observable<MessageEvent>((subscriber) => {
      const writer = new ResponseWriter(
        response,
        this.options.maxBufferedBytes,
        subscriber,
        () => undefined,
      );
      writer.write(busyFrame(this.busyRetryMs()));
      writer.end();
      return () => writer.dispose();
    });
  }

  /** Ends every stream, each with its own `retry`, so clients come back spread out. */
  beforeApplicationShutdown(): void {
    this.draining = true;
    this.closing$.next();
  }
}
