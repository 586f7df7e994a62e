import { randomUUID } from 'node:crypto';
import {
  BadRequestException,
  Inject,
  Injectable,
  type MessageEvent,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import type { Observable } from 'rxjs';
import type { ResolvedSseBusOptions } from '../config/sse-bus.options.js';
import { BusMetrics, messageKind } from '../metrics/bus-metrics.js';
import { SseStreamService } from '../sse/sse-stream.service.js';
import {
  type StreamRequest,
  lastEventIdOf,
  rawRequest,
  streamTopics,
} from '../sse/stream-request.js';
import type { BusEvent } from './bus-event.js';
import { BusTransport, type TransportHealth } from './bus-transport.js';
import { ClientRouter } from './client-router.js';
import { type PublishOptions, clientIdProblem, toOutgoingMessage } from './message-validation.js';
import { SSE_BUS_OPTIONS } from './sse-bus.constants.js';

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
 * Publishes messages to clients on every instance, and gives each client its stream of them.
 * Inject it anywhere: `await bus.publish({ hello: 'world' }, { clientId: 'alice' })`, and
 * `return bus.sse(request, { clientId })` from an `@Sse()` handler.
 */
@Injectable()
export class MessageBus implements OnModuleInit, OnApplicationShutdown {
  private readonly publishing = new Set<Promise<string>>();

  constructor(
    private readonly transport: BusTransport,
    private readonly router: ClientRouter,
    private readonly streams: SseStreamService,
    private readonly metrics: BusMetrics,
    @Inject(SSE_BUS_OPTIONS) private readonly options: ResolvedSseBusOptions,
  ) {}

  /** Every event on the bus as this instance reads it: hot, in log order. */
  get events$(): Observable<BusEvent> {
    return this.transport.events$;
  }

  /** Open streams on this instance. */
  get subscriberCount(): number {
    return this.router.size;
  }

  /**
   * Sends `data` (any JSON value) to the clients `options.clientId` names, to the streams on
   * `options.topic`, or to all. Resolves to the event id once the message is on the bus; rejects
   * with `InvalidMessageError` or `MessageTooLargeError` for what cannot be sent, and with
   * `BusUnavailableError` when the bus cannot take it within `publishTimeoutMs`.
   */
  async publish(data: unknown, options: PublishOptions = {}): Promise<string> {
    const message = toOutgoingMessage(data, options, this.options.maxMessageBytes);
    const stopTimer = this.metrics.publishSeconds.startTimer();
    const publishing = this.transport.publish(message, this.options.publishTimeoutMs);
    this.publishing.add(publishing);
    try {
      const id = await publishing;
      this.metrics.messagesPublished[messageKind(message)]++;
      return id;
    } finally {
      this.publishing.delete(publishing);
      stopTimer();
    }
  }

  /**
   * The stream of an `@Sse()` endpoint: return it from the handler. It gives what `GET /sse/msg`
   * gives (`connected`, the messages the client may see with their bus ids, what it missed
   * when it resumes, the heartbeat, `reset`, `busy`, the slow-client limit and the end at
   * shutdown), through Nest's own SSE plumbing. `request` is the handler's (`@Req()`), under
   * Fastify or Express. Without `clientId`, the stream gets a random one. Throws 400 for a bad
   * client id or topic, 503 when the instance is full and the client is not a browser.
   */
  sse(request: StreamRequest, options: StreamOptions = {}): Observable<MessageEvent> {
    const clientId = options.clientId ?? randomUUID();
    const problem = clientIdProblem(clientId);
    if (problem) throw new BadRequestException(`clientId: ${problem}`);
    const topics = options.topics === undefined ? null : streamTopics(options.topics);
    return this.streams.events(rawRequest(request), {
      clientId,
      topics: topics && new Set(topics),
      lastEventId: options.lastEventId ?? lastEventIdOf(request),
    });
  }

  /** The id of the last event this instance has read: where a stream opened now starts. */
  position(): string {
    return this.transport.position();
  }

  health(): TransportHealth {
    return this.transport.health();
  }

  async onModuleInit(): Promise<void> {
    await this.transport.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled(this.publishing);
    await this.transport.close();
  }
}
