import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { type BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
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
 * Opens and ends the event streams of this instance's clients, and counts them.
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
   * Streams to `response` what `client` may see; the stream lives until the client leaves, and
   * its teardown releases everything it holds.
   */
  open(
    response: ServerResponse,
    headers: OutgoingHttpHeaders,
    client: ClientIdentity,
    lastEventId?: string,
  ): void {
    const writer = new ResponseWriter(response, headers, this.options.maxBufferedBytes, () =>
      this.logger.warn(`Client ${client.clientId} is not reading: disconnected`),
    );
    if (writer.bodiless) return writer.end(false);
    const subscription = this.frames(client, lastEventId, () => writer.whenWritable()).subscribe({
      next: (frame) => writer.write(frame),
      complete: () => writer.end(this.draining),
    });
    subscription.add(writer.onClose(() => subscription.unsubscribe()));
  }

  /**
   * The frames of one connection: `retry` and `connected`, then what the client may see from the
   * bus (what it missed first, when it resumes) merged with the shared heartbeat. Written as one
   * Observable rather than a chain of operators: it is held once per open connection, and each
   * operator would hold its own subscriber.
   */
  private frames(
    client: ClientIdentity,
    lastEventId: string | undefined,
    pace: () => Promise<void> | undefined,
  ): Observable<SseFrame> {
    return new Observable<SseFrame>((subscriber) => {
      this.streams++;
      // Ends the stream with its own `retry`, so that clients ended together come back spread out.
      const end = () => {
        subscriber.next(retryFrame(jitter(this.options.retryMs, this.options.reconnectJitterMs)));
        subscriber.complete();
      };
      subscriber.next(this.retry);
      // Read in the same turn as the bus is subscribed: nothing can come in between.
      subscriber.next(
        connectedFrame(client.clientId, lastEventId ? undefined : this.bus.position()),
      );
      const subscription = this.bus.stream(client.clientId, lastEventId, pace).subscribe({
        next: (event) => subscriber.next(frameOf(event)),
        // An error never reaches the client as an `error` frame (the browser would retry in a
        // loop): the stream ends, and the client resumes after `retry`.
        error: (err: Error) => {
          this.logger.warn(`Stream of ${client.clientId} ended: ${err.message}`);
          end();
        },
        complete: end,
      });
      subscription.add(this.heartbeat.beat$.subscribe((frame) => subscriber.next(frame)));
      subscription.add(this.closing$.subscribe(end));
      // The stream ends when its token expires; the client's next connection needs a fresh one.
      const expiresIn = client.expiresAt === undefined ? Infinity : client.expiresAt - Date.now();
      if (expiresIn < MAX_TIMEOUT_MS) {
        const expiry = setTimeout(end, Math.max(0, expiresIn));
        subscription.add(() => clearTimeout(expiry));
      }
      return () => {
        subscription.unsubscribe();
        this.streams--;
      };
    });
  }

  /** A stream that only says "busy, come back later" and ends. */
  turnAway(response: ServerResponse, headers: OutgoingHttpHeaders): void {
    const writer = new ResponseWriter(response, headers, this.options.maxBufferedBytes, () => {});
    if (!writer.bodiless) writer.write(busyFrame(this.busyRetryMs()));
    writer.end(false);
  }

  /** Ends every stream, each with its own `retry`, so clients come back spread out. */
  beforeApplicationShutdown(): void {
    this.draining = true;
    this.closing$.next();
  }
}
