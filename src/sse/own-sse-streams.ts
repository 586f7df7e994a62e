import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import {
  BadRequestException,
  Injectable,
  type MessageEvent,
  ServiceUnavailableException,
} from '@nestjs/common';
import {
  type Observable,
  type Subscriber,
  type TeardownLogic,
  type Unsubscribable,
  of,
} from 'rxjs';
import { DISCONNECT_EVENT } from '../bus/disconnect.js';
import { clientIdProblem } from '../bus/message-validation.js';
import { type StreamRequest, rawRequest } from '../http/platform.js';
import type { StreamSink } from './bus-stream.js';
import { MESSAGE_EVENT_ENCODING } from './message-event-encoding.js';
import { LeanObservable } from './rxjs-subclasses.js';
import { SocketBacklog } from './socket-backlog.js';
import { StreamRegistry, type StreamSpec } from './stream-registry.js';
import { lastEventIdOf, streamTopics } from './stream-request.js';

/** Whose stream it is and what it subscribes to. */
export interface StreamOptions {
  /** The client the stream is for: it gets broadcasts and the messages for this id. */
  clientId?: string;
  /** Topics it subscribes to (at most 32): it gets the messages published on them as well. */
  topics?: string | readonly string[];
  /** Where it resumes from. Default: the request's `Last-Event-ID` (or `?lastEventId=`). */
  lastEventId?: string;
}

/**
 * Apps' own `@Sse()` endpoints: the stream `GET /sse/msg` gives, as `MessageEvent`s that Nest's
 * own SSE plumbing writes, with the same ids, heartbeat, limits and end.
 */
@Injectable()
export class OwnSseStreams {
  constructor(private readonly registry: StreamRegistry) {}

  /** See `MessageBus.sse()`. */
  events(request: StreamRequest, options: StreamOptions): Observable<MessageEvent> {
    const clientId = options.clientId ?? randomUUID();
    const problem = clientIdProblem(clientId);
    if (problem) throw new BadRequestException(`clientId: ${problem}`);
    const topics = options.topics === undefined ? null : streamTopics(options.topics);
    const spec: StreamSpec = {
      clientId,
      topics: topics && new Set(topics),
      lastEventId: options.lastEventId ?? lastEventIdOf(request),
    };
    const raw = rawRequest(request);
    const admission = this.registry.admit(raw, clientId);
    if (admission === 'refused') {
      throw new ServiceUnavailableException('Too many streams on this instance; retry later');
    }
    if (admission === 'busy') {
      const { busy } = MESSAGE_EVENT_ENCODING;
      return of(busy(this.registry.busyRetryMs(), this.registry.position(spec)));
    }
    // On HTTP/1 the socket is the stream's own, so what waits for the client can be counted.
    return new NestEvents(
      this.registry,
      (raw.httpVersionMajor === 1 && raw.socket) || undefined,
      spec,
    );
  }
}

/** One app's stream as Nest gets it; it opens when Nest subscribes, and ends when Nest lets go. */
class NestEvents extends LeanObservable<MessageEvent> {
  constructor(
    private readonly registry: StreamRegistry,
    private readonly socket: Socket | undefined,
    private readonly spec: StreamSpec,
  ) {
    super();
  }

  /**
   * Opens once every instance lets it. Nest has sent its 200 by then: a blocked client gets a
   * `disconnect` in place of the 204, and one with too many streams Nest's `error` event, unless
   * the 429 came before the headers.
   */
  protected subscribed(subscriber: Subscriber<MessageEvent>): TeardownLogic {
    const { registry, socket, spec } = this;
    let stream: Unsubscribable | undefined;
    registry.clear(spec.clientId).then(
      (verdict) => {
        if (subscriber.closed) {
          if (verdict === 'open') registry.withdraw(spec.clientId);
        } else if (verdict === 'blocked') {
          const data = JSON.stringify({ reason: 'blocked' });
          subscriber.next({ type: DISCONNECT_EVENT, id: registry.position(spec), data });
          subscriber.complete();
        } else {
          const backlog = socket && new SocketBacklog(socket, registry.maxBufferedBytes);
          const sink = new NestEventSink(subscriber, backlog);
          stream = registry.open(MESSAGE_EVENT_ENCODING, sink, spec);
        }
      },
      (err: unknown) => subscriber.error(err),
    );
    return () => stream?.unsubscribe();
  }
}

/**
 * Hands a stream's events to Nest, which writes them; with a `backlog` (HTTP/1, where the socket
 * is the stream's own), counts what waits for the client.
 */
class NestEventSink implements StreamSink<MessageEvent> {
  constructor(
    private readonly subscriber: Subscriber<MessageEvent>,
    private readonly backlog: SocketBacklog | undefined,
  ) {}

  write(event: MessageEvent): boolean {
    this.subscriber.next(event);
    return this.backlog?.add(wireBytesAtLeast(event)) !== true;
  }

  end(): void {
    this.subscriber.complete();
  }

  whenWritable(): Promise<void> | undefined {
    return this.backlog?.whenWritable();
  }
}

/**
 * Bytes an event takes on the wire, at least: its fields and their names, without the chunk
 * framing. Counting low never cuts off a client that reads; a stalled one is still cut off.
 */
function wireBytesAtLeast(event: MessageEvent): number {
  const { id, type, data, retry, comment } = event;
  let bytes = 1;
  if (id !== undefined) bytes += id.length + 5;
  if (type !== undefined) bytes += type.length + 8;
  if (typeof data === 'string') bytes += data.length + 7;
  if (retry !== undefined) bytes += 8;
  if (comment !== undefined) bytes += comment.length + 3;
  return bytes;
}
