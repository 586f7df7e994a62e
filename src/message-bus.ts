import {
  Inject,
  Injectable,
  type MessageEvent,
  type OnApplicationShutdown,
  type OnModuleInit,
  Optional,
} from '@nestjs/common';
import { Observable } from 'rxjs';
import { BusCounters, messageKind } from './bus/bus-counters.js';
import type { BusEvent } from './bus/bus-event.js';
import { BusTransport, type OutgoingMessage, type TransportHealth } from './bus/bus-transport.js';
import { ClientGate } from './bus/client-gate.js';
import { ClientRouter } from './bus/client-router.js';
import { disconnectEntry } from './bus/disconnect.js';
import { type DisconnectOptions, checkDisconnect } from './bus/disconnect-options.js';
import {
  type PublishOptions,
  type TopicChangeOptions,
  clientIdProblem,
  toOutgoingMessage,
  toTopicChangeMessage,
} from './bus/message-validation.js';
import { InvalidMessageError } from './errors/invalid-message.error.js';
import type { PublishMessage, PublishResult } from './bus/publish-message.js';
import { type ResolvedSseBusOptions, SSE_BUS_OPTIONS } from './config/sse-bus.options.js';
import { SseBusError } from './errors/sse-bus.error.js';
import { TooManyMessagesError } from './errors/too-many-messages.error.js';
import type { StreamRequest } from './http/platform.js';
import type { BucketHistogram } from './metrics/bucket-histogram.js';
import { PUBLISH_SECONDS } from './metrics/publish-seconds.js';
import { OwnSseStreams } from './sse/own-sse-streams.js';
import type {
  EventData,
  EventName,
  TypedPublishOptions,
  TypedStreamOptions,
} from './typed-events.js';

/**
 * Publishes messages to clients on every instance, and gives each client its stream of them.
 * Inject it anywhere: `await bus.publish({ hello: 'world' }, { clientId: 'alice' })`, and
 * `return bus.sse(request, { clientId })` from an `@Sse()` handler.
 *
 * `MessageBus<Events, Topic>` checks at compile time what is published: `Events` maps each event
 * name to its data (`message` for none), as the browser client's `connect<Events>()` takes it,
 * and `Topic` names the topics. Nest injects the same bus whatever the types say.
 */
@Injectable()
export class MessageBus<Events extends object = object, Topic extends string = string>
  implements OnModuleInit, OnApplicationShutdown
{
  /** Appends under way, which a shutdown waits for, and what it waits with. */
  private publishing = 0;
  private settled: (() => void) | undefined;

  constructor(
    private readonly transport: BusTransport,
    private readonly router: ClientRouter,
    private readonly ownStreams: OwnSseStreams,
    private readonly counters: BusCounters,
    private readonly gate: ClientGate,
    @Inject(SSE_BUS_OPTIONS) private readonly options: ResolvedSseBusOptions,
    @Optional() @Inject(PUBLISH_SECONDS) private readonly publishSeconds?: BucketHistogram,
  ) {}

  /**
   * Every event on the bus as this instance reads it: hot, in log order (per shard on a cluster).
   * While subscribed, the instance reads the log even with no stream open (`readerIdleMs`).
   */
  readonly events$ = new Observable<BusEvent>((subscriber) => {
    const { transport } = this;
    void transport.attend();
    const subscription = transport.events$.subscribe(subscriber);
    return () => {
      subscription.unsubscribe();
      transport.unattend();
    };
  });

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
  publish<Name extends EventName<Events> = 'message'>(
    data: EventData<Events, Name>,
    options: TypedPublishOptions<Name, Topic> = {},
  ): Promise<string> {
    // Not an async function: that would cost each publish a promise more. A bad message rejects.
    try {
      return this.append(this.outgoing(data, options), true);
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /**
   * Ends every open stream of `clientId` on every instance, within a second, with a `disconnect`
   * event carrying `{"reason": …}`; a stream that opens later, or resumes from before it, is not
   * ended by it. With `blockMs`, the client's new streams and reconnects are refused meanwhile
   * (`204`); with `revokeTokens`, its tokens issued until now (`401`). Resolves once it is on the
   * bus, which every instance reads within a second; rejects with `InvalidMessageError` for bad
   * options and `BusUnavailableError` when the bus cannot take it in time.
   */
  async disconnect(clientId: string, options: DisconnectOptions = {}): Promise<void> {
    const { blockMs, reason, revokeTokens } = checkDisconnect(clientId, options);
    // Before the streams end: their reconnects must find the block.
    await Promise.all([
      blockMs > 0 && this.gate.block(clientId, blockMs),
      revokeTokens && this.gate.revoke(clientId, Date.now(), this.options.revocationTtlMs),
    ]);
    await this.append(disconnectEntry(clientId, reason));
  }

  /** Lifts the block of `clientId` (see `disconnect`), on every instance. */
  async unblock(clientId: string): Promise<void> {
    const problem = clientIdProblem(clientId);
    if (problem) throw new InvalidMessageError(problem);
    await this.gate.unblock(clientId);
  }

  /**
   * Publishes each of `messages` as `publish()` would, all at once: they reach the log together
   * (one script call on Redis), each checked on its own. Resolves to one result per message, in
   * order: its id, or the error `publish()` would have rejected with; a bad message does not stop
   * the others. Throws `TooManyMessagesError` for more than `maxBatch` messages. A retry of a
   * batch lands once when its messages carry idempotency keys.
   */
  async publishMany(messages: readonly PublishMessage[]): Promise<PublishResult[]> {
    const { maxBatch, publishTimeoutMs } = this.options;
    if (messages.length > maxBatch) throw new TooManyMessagesError(messages.length, maxBatch);
    const results = new Array<PublishResult>(messages.length);
    const outgoing: OutgoingMessage[] = [];
    const at: number[] = [];
    messages.forEach((message, i) => {
      try {
        outgoing.push(this.outgoing(message.data, message));
        at.push(i);
      } catch (err) {
        results[i] = failed(err);
      }
    });
    // One promise and one timer for the batch, not one each: a hundred messages felt them.
    const started = performance.now();
    this.publishing++;
    try {
      const outcomes = await this.transport.publishAll(outgoing, publishTimeoutMs);
      const seconds = (performance.now() - started) / 1000;
      outcomes.forEach((outcome, k) => {
        this.publishSeconds?.observe(seconds);
        if (outcome.status === 'rejected') {
          results[at[k]] = failed(outcome.reason);
          return;
        }
        this.counters.messagesPublished[messageKind(outgoing[k])]++;
        results[at[k]] = { id: outcome.value };
      });
    } finally {
      if (--this.publishing === 0) this.settled?.();
    }
    return results;
  }

  /** What `publish()` sends, checked and serialized; throws what is wrong with it. */
  private outgoing(data: unknown, options: PublishOptions): OutgoingMessage {
    const { maxMessageBytes, maxRecipients } = this.options;
    return toOutgoingMessage(data, options, maxMessageBytes, maxRecipients);
  }

  /**
   * Adds `topics` to every stream of `clientId`, on every instance, from now on: once it
   * resolves (to the change's id), they get what is published on them, and nothing from before.
   * Each stream is sent a `topics` event with its topics now. Streams the client opens later
   * start with them too, whatever they ask for (a token's `topics` claim does not limit them).
   * Rejects with `TooManyTopicsError`, changing nothing, when it would leave the client joined to
   * more than `maxTopicsPerClient` topics, `InvalidMessageError` for a bad client id or topic, and
   * `BusUnavailableError` when the bus cannot take it in time.
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

  /**
   * `join` and `leave` in one change, which every stream of the client gets at once: the joined
   * topics it leaves are counted against `maxTopicsPerClient`, the whole change or none of it.
   */
  changeTopics(clientId: string, change: TopicChangeOptions): Promise<string> {
    return this.append(toTopicChangeMessage(clientId, change, this.options.maxTopicsPerClient));
  }

  /**
   * The stream of an `@Sse()` endpoint: return it from the handler. It gives what `GET /sse/msg`
   * gives (`connected`, the messages the client may see with their bus ids, what it missed
   * when it resumes, the heartbeat, `reset`, `busy`, the slow-client limit and the end at
   * shutdown), through Nest's own SSE plumbing. `request` is the handler's (`@Req()`), under
   * Fastify or Express. Without `clientId`, the stream gets a random one. Throws 400 for a bad
   * client id or topic, 503 when the instance is full and the client is not a browser.
   */
  sse(request: StreamRequest, options: TypedStreamOptions<Topic> = {}): Observable<MessageEvent> {
    return this.ownStreams.events(request, options);
  }

  /**
   * Appends `message` to the log; a shutdown waits for it. `published`: a message the app
   * published, timed, and counted once on the bus.
   */
  private async append(message: OutgoingMessage, published = false): Promise<string> {
    const stopTimer = published ? this.publishSeconds?.startTimer() : undefined;
    // Counted: a shutdown needs to know when none is left, not which they are.
    this.publishing++;
    try {
      const id = await this.transport.publish(message, this.options.publishTimeoutMs);
      if (published) this.counters.messagesPublished[messageKind(message)]++;
      return id;
    } finally {
      stopTimer?.();
      if (--this.publishing === 0) this.settled?.();
    }
  }

  /**
   * The id of the last event this instance has read: where a stream opened now starts, unless it
   * stopped reading for want of streams (`readerIdleMs`).
   */
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
    if (this.publishing > 0) await new Promise<void>((resolve) => (this.settled = resolve));
    await this.transport.close();
  }
}

/** A message of a batch that was not sent, and why; a bug (no `SseBusError`) is thrown. */
function failed(err: unknown): PublishResult {
  if (!(err instanceof SseBusError)) throw err;
  return { error: err };
}
