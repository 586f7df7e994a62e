import type { Audience, BusEvent, BusMessage, Rejoins } from '../bus/bus-event.js';
import { isDisconnect } from '../bus/disconnect.js';
import type { FeedReader } from '../bus/stream-feed.js';
import type { StreamLease } from '../bus/stream-lease.js';
import {
  type Member,
  type TopicChange,
  moveTopics,
  topicChangeOf,
  topicEffectOf,
} from '../bus/topic-change.js';
import { LeanSubscriber } from './rxjs-subclasses.js';
import type { StreamEncoding } from './stream-encoding.js';

/**
 * Why a stream ended: its client left, or was too slow and cut off, its token expired, the
 * instance shut down, the bus failed it, or the server disconnected the client.
 */
export type CloseReason = 'client' | 'slow' | 'expired' | 'shutdown' | 'error' | 'disconnected';

/** Where a stream's items go: its client's response. */
export interface StreamSink<T> {
  /** Returns false when this cut the client off for not reading what waits for it. */
  write(item: T): boolean | void;
  /** Ends the response; `closing`: the instance is shutting down. */
  end(closing: boolean): void;
  /** Undefined while the client keeps up; otherwise settles once it has read enough (or left). */
  whenWritable(): Promise<void> | undefined;
}

/** What a stream needs from the registry that opens it. */
export interface StreamHost {
  /** Whether the instance is shutting down. */
  readonly draining: boolean;
  /** The `retry` a stream opens with. */
  readonly retryMs: number;
  /** The `retry` of a stream that ends: spread, so that clients ended together come back apart. */
  closingRetryMs(): number;
  /** The stream ended on an error of the bus (it never reaches the client as an `error` event). */
  failed(stream: BusStream<unknown>, err: Error): void;
  /** The stream is over, whichever way it ended. */
  released(stream: BusStream<unknown>): void;
}

function expire(stream: BusStream<unknown>): void {
  stream.end('expired');
}

/**
 * One open stream, subscribed to its feed from the bus: `retry` and `connected` once the feed
 * starts, then what its client may see, each event with its id on the stream, the heartbeats the
 * registry gives it, and a last `retry` when it ends. It is its own audience and reader, and holds
 * everything in its fields (see `LeanSubscriber`).
 */
export class BusStream<T> extends LeanSubscriber<BusEvent> implements Member, FeedReader {
  readonly clientId: string;
  /** What it asked for, until the bus gives it its starting topics; then as changes move them. */
  topics: ReadonlySet<string> | null;
  /** On a sharded log, its topics in its client's changes' order, where they differ. */
  clientTopics?: ReadonlySet<string> | null;
  /** On a sharded log, the topics its client left and joined again before it met the leave. */
  rejoins?: Rejoins;
  /** What the stream holds in the bus, which gives each event its id; from the feed's start. */
  private lease: StreamLease | undefined;
  /** Why the stream ended, when it was not its client that left. */
  closeReason: CloseReason = 'client';
  private expiry: NodeJS.Timeout | undefined;

  constructor(
    private readonly host: StreamHost,
    private readonly encoding: StreamEncoding<T>,
    private readonly sink: StreamSink<T>,
    audience: Audience,
  ) {
    super();
    this.clientId = audience.clientId;
    this.topics = audience.topics;
  }

  /** Ends the stream by itself at `expiresAt` (epoch ms), when its client's token expires. */
  expireAt(expiresAt: number): void {
    const expiresIn = expiresAt - Date.now();
    // The longest delay setTimeout takes; a longer one would fire at once.
    if (expiresIn < 2 ** 31 - 1 && !this.closed) {
      this.expiry = setTimeout(expire, Math.max(0, expiresIn), this);
    }
  }

  /** A comment, which clients ignore and proxies count as traffic. */
  heartbeat(): void {
    this.send(this.encoding.heartbeat);
  }

  /** Ends the stream with its own `retry`, and the response with it. */
  end(reason: CloseReason): void {
    if (this.closed) return;
    this.closeReason = reason;
    this.send(this.encoding.closing(this.host.closingRetryMs(), this.lease?.id ?? ''));
    this.stop();
  }

  whenWritable(): Promise<void> | undefined {
    return this.sink.whenWritable();
  }

  /** `retry` and `connected`, from where the feed starts. */
  start(lease: StreamLease, resumes: boolean): void {
    this.lease = lease;
    for (const item of this.encoding.opening(this.host.retryMs, this.clientId, lease.id, resumes)) {
      this.send(item);
    }
  }

  protected receive(event: BusEvent): void {
    const effect = event.kind === 'message' ? topicEffectOf(event) : undefined;
    if (effect) return this.retopic(event as BusMessage, effect);
    // Its last word, in place of `closing`: whether the client comes back is the server's to say.
    const last = isDisconnect(event);
    if (last) this.closeReason = 'disconnected';
    this.send(this.encoding.event(event, this.lease!.advance(event)));
    if (last) this.stop();
  }

  /**
   * Applies a change of its client's topics, or its marker on another shard (which the client is
   * not sent): it is routed by the topics `effect` leaves it on, and lets go of the channels of
   * those it left. The client is sent its topics as the changes leave them, whether or not the
   * leaves' markers on their shards are read yet.
   */
  private retopic(message: BusMessage, effect: TopicChange): void {
    const had = this.topics;
    ({
      topics: this.topics,
      clientTopics: this.clientTopics,
      rejoins: this.rejoins,
    } = moveTopics(this, message, effect));
    // A leave's marker that a rejoin voids leaves it on the topic, listening.
    const left = effect.leave.filter((topic) => had?.has(topic) && !this.topics?.has(topic));
    if (left.length > 0) this.lease!.leave?.(left);
    // A marker is not sent: the stream is past it all the same, so that it is not applied twice.
    if (!topicChangeOf(message)) return void this.lease!.advance(message);
    const topics = this.clientTopics === undefined ? this.topics : this.clientTopics;
    this.send(this.encoding.topics(topics, this.lease!.advance(message)));
  }

  protected fail(err: Error): void {
    this.host.failed(this, err);
    this.end('error');
  }

  /** The bus completes only when the instance shuts down. */
  protected finish(): void {
    this.end('shutdown');
  }

  /** Lets go of everything the stream holds; the response is left as it is. */
  protected released(): void {
    clearTimeout(this.expiry);
    this.host.released(this);
  }

  private stop(): void {
    this.sink.end(this.host.draining);
    this.unsubscribe();
  }

  private send(item: T): void {
    if (this.sink.write(item) === false) this.closeReason = 'slow';
  }
}
