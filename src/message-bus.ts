import {
  Inject,
  Injectable,
  type MessageEvent,
  type OnApplicationShutdown,
  type OnModuleInit,
  Optional,
} from '@nestjs/common';
import type { Histogram } from 'prom-client';
import type { Observable } from 'rxjs';
import { BusCounters, messageKind } from './bus/bus-counters.js';
import type { BusEvent } from './bus/bus-event.js';
import { BusTransport, type TransportHealth } from './bus/bus-transport.js';
import { ClientRouter } from './bus/client-router.js';
import type { OutgoingMessage } from './bus/bus-transport.js';
import {
  type PublishOptions,
  type TopicChangeOptions,
  toOutgoingMessage,
  toTopicChangeMessage,
} from './bus/message-validation.js';
import { type ResolvedSseBusOptions, SSE_BUS_OPTIONS } from './config/sse-bus.options.js';
import type { StreamRequest } from './http/platform.js';
import { PUBLISH_SECONDS } from './metrics/publish-seconds.js';
import { OwnSseStreams, type StreamOptions } from './sse/own-sse-streams.js';

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
    private readonly ownStreams: OwnSseStreams,
    private readonly counters: BusCounters,
    @Inject(SSE_BUS_OPTIONS) private readonly options: ResolvedSseBusOptions,
    @Optional() @Inject(PUBLISH_SECONDS) private readonly publishSeconds?: Histogram,
  ) {}

  /** Every event on the bus as this instance reads it: hot, in log order (per shard on a cluster). */
  get events$(): Observable<BusEvent> {
    return this.transport.events$;
  }

  /** Open streams on this instance. */
  get subscriberCount(): number {
    return this.router.size;
  }

  /**
   * Sends `data` (any JSON value) to the clients `options.clientId` names, to the streams on
   * `options.topic`, or to all. Resolves to the event id once the message is on the bus (with an
   * `idempotencyKey` seen within the window, to the first one's, sending nothing); rejects with
   * `InvalidMessageError`, `MessageTooLargeError` or `TooManyRecipientsError` for what cannot be
   * sent, `IdempotencyKeyReusedError` for a key seen with another message, and
   * `BusUnavailableError` when the bus cannot take it within `publishTimeoutMs`.
   */
  async publish(data: unknown, options: PublishOptions = {}): Promise<string> {
    const { maxMessageBytes, maxRecipients } = this.options;
    const message = toOutgoingMessage(data, options, maxMessageBytes, maxRecipients);
    const stopTimer = this.publishSeconds?.startTimer();
    try {
      const id = await this.append(message);
      this.counters.messagesPublished[messageKind(message)]++;
      return id;
    } finally {
      stopTimer?.();
    }
  }

  /**
   * Adds `topics` to every stream of `clientId`, on every instance, from now on: once it
   * resolves (to the change's id), they get what is published on them, and nothing from before.
   * Each stream is sent a `topics` event with its topics now. Streams the client opens later
   * start with them too, whatever they ask for (a token's `topics` claim does not limit them).
   */
  join(clientId: string, topics: string | readonly string[]): Promise<string> {
    return this.changeTopics(clientId, { join: topics });
  }

  /**
   * Takes `topics` from every stream of `clientId`, on every instance, from now on, and from the
   * streams it opens later, even those that ask for them, until it joins them again.
   */
  leave(clientId: string, topics: string | readonly string[]): Promise<string> {
    return this.changeTopics(clientId, { leave: topics });
  }

  /** `join` and `leave` in one change, which every stream of the client gets at once. */
  changeTopics(clientId: string, change: TopicChangeOptions): Promise<string> {
    return this.append(toTopicChangeMessage(clientId, change));
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
    return this.ownStreams.events(request, options);
  }

  /** Appends `message` to the log; a shutdown waits for it. */
  private async append(message: OutgoingMessage): Promise<string> {
    const appending = this.transport.publish(message, this.options.publishTimeoutMs);
    this.publishing.add(appending);
    try {
      return await appending;
    } finally {
      this.publishing.delete(appending);
    }
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
