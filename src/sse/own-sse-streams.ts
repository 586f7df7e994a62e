import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import {
  BadRequestException,
  Injectable,
  type MessageEvent,
  ServiceUnavailableException,
} from '@nestjs/common';
import { type Observable, type Subscriber, type TeardownLogic, of } from 'rxjs';
import { clientIdProblem } from '../bus/message-validation.js';
import { type StreamRequest, rawRequest } from '../http/platform.js';
import { MESSAGE_EVENT_ENCODING } from './message-event-encoding.js';
import { NestEventSink } from './nest-event-sink.js';
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

  /**
   * The stream of `request` (the handler's), on Fastify or Express. Without `clientId`, it gets a
   * random one. Throws 400 for a bad client id or topic, 503 when the instance is full and the
   * client is not a browser.
   */
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
    const admission = this.registry.admit(raw);
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

  protected subscribed(subscriber: Subscriber<MessageEvent>): TeardownLogic {
    const { registry, socket } = this;
    const backlog = socket && new SocketBacklog(socket, registry.maxBufferedBytes);
    const sink = new NestEventSink(subscriber, backlog);
    return registry.open(MESSAGE_EVENT_ENCODING, sink, this.spec);
  }
}
