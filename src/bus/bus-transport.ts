import { type Observable, Subject } from 'rxjs';
import type { Audience, BusEvent, BusMessage, ResetReason } from './bus-event.js';
import { type LogEventId, parseEventId } from './event-id.js';
import type { Idempotency } from './idempotency.js';
import type { CatchUpSource } from './join-catch-up.js';
import { LogLease, type StreamLease } from './stream-lease.js';
import type { MembershipProjection } from './membership-projection.js';
import {
  type BoundedTopicChange,
  type CursorMembership,
  type Membership,
  topicChangeOf,
} from './topic-change.js';

/** A message on its way to the log: `data` is already JSON text. */
export interface OutgoingMessage {
  readonly to: readonly string[] | null;
  readonly topics: readonly string[] | null;
  readonly event: string | undefined;
  readonly data: string;
  /** Set: a message with the same key seen within the window is not appended again. */
  readonly idempotency?: Idempotency;
  /**
   * Set: a change of its one client's topics, which the log keeps as its membership too; refused
   * with `TooManyTopicsError`, in the same atomic step as the append, past its `maxJoined`.
   */
  readonly topicChange?: BoundedTopicChange;
}

export interface TransportHealth {
  readonly transport: 'memory' | 'redis';
  /** False while this process cannot read the log: it receives nothing until it can again. */
  readonly reading: boolean;
  /** False while publishes cannot reach the log: they wait, then reject. */
  readonly writing: boolean;
  readonly detail?: string;
}

/** Messages per page of history: bounds the memory one resuming client can take at once. */
export const HISTORY_PAGE_SIZE = 500;

/** The history cannot give every message after a cursor; the client has to start over. */
export class HistoryGap extends Error {
  constructor(readonly reason: ResetReason) {
    super(`Cannot resume: ${reason}`);
  }
}

/**
 * Where messages are stored and how they reach every instance. The SSE side sees only this:
 * a publish, a hot stream of events and a history to resume from.
 */
export abstract class BusTransport {
  /** What the transport reads, as it reads it: `events$`, which it completes when it closes. */
  protected readonly read$ = new Subject<BusEvent>();

  /**
   * Every event of the bus as this process reads it: hot and shared; in log order, which on a
   * sharded log holds per shard.
   */
  readonly events$: Observable<BusEvent> = this.read$.asObservable();

  /**
   * Something here wants `events$` from now on (a stream, a subscriber of the bus's events),
   * until `unattend()`. Undefined while the transport reads; a transport that stopped reading for
   * want of anyone to read for reads again, and settles once `position()` is where it reads on
   * from. It never rejects: one that cannot reach its log reads on from where it stopped.
   */
  attend(): Promise<void> | undefined {
    return undefined;
  }

  /** One that `attend()`ed wants `events$` no longer. */
  unattend(): void {}

  /**
   * The id of the last event this process has read that `audience` may see: where a new stream
   * of it starts.
   */
  abstract position(audience?: Audience): string;

  /**
   * What a new stream of `audience` holds in the bus: its place, at `lastEventId` when that is an
   * id of this bus, else at `position(audience)`, and what it listens on.
   */
  abstract lease(audience: Audience, lastEventId: string | undefined): StreamLease;

  /**
   * Appends a message to the log; resolves to its id once the log has it. With an idempotency
   * key the log has seen within its window, appends nothing and resolves to the first one's id,
   * or rejects with `IdempotencyKeyReusedError` when that was given for another message: checked
   * in the same atomic step as the append.
   */
  abstract publish(message: OutgoingMessage, timeoutMs: number): Promise<string>;

  /** `publish` of each of `messages`, all at once: resolves to each one's outcome, in order. */
  publishAll(
    messages: readonly OutgoingMessage[],
    timeoutMs: number,
  ): Promise<PromiseSettledResult<string>[]> {
    return Promise.allSettled(messages.map((message) => this.publish(message, timeoutMs)));
  }

  /**
   * The messages after `lastEventId` that `audience` may see (or more: the caller filters), a
   * page at a time, in log order (on a sharded log, its shards interleaved by their entries'
   * times, each in its own order). Throws `HistoryGap` when
   * it cannot give all of them: never a partial history passed off as complete.
   */
  abstract replay(lastEventId: string, audience: Audience): AsyncIterable<readonly BusMessage[]>;

  /**
   * `clientId`'s membership as the log read so far leaves it: what a stream opened now starts
   * with.
   */
  abstract membership(clientId: string): Membership;

  /**
   * `clientId`'s membership as it stood at `lastEventId` (now, for one that is no id of this
   * bus's log now): what a stream resuming from there started with.
   */
  abstract membershipAt(clientId: string, lastEventId: string): Promise<CursorMembership>;

  /**
   * On a sharded log, what a stream is owed for the topics its client joins, from their markers
   * on (see `withJoinCatchUps`); absent on a log with one order, where a join takes effect at its
   * change for every topic.
   */
  readonly joins?: CatchUpSource;

  /** The last stream here of `clientId` ended: its membership is kept for its time to live. */
  abstract keepMembership(clientId: string): void;

  /**
   * Keeps the memberships of `clientIds` (those with streams here), and of those whose last
   * stream here ended since the last time, for their time to live from now.
   */
  abstract keepMemberships(clientIds: Iterable<string>): Promise<void>;

  /**
   * Drops the messages published before `ms` (epoch ms, as in their ids): a cursor from before
   * the last one dropped gets a `HistoryGap('expired')`.
   */
  abstract trimBefore(ms: number): Promise<void>;

  abstract health(): TransportHealth;

  abstract start(): Promise<void>;

  abstract close(): Promise<void>;
}

/** A transport whose log has one order: every stream shares its ids. */
export abstract class SingleLogTransport extends BusTransport {
  private lastPosition = '';

  /** The messages after `after`, oldest first, a page at a time (see `replay`). */
  abstract history(after: LogEventId): AsyncIterable<readonly BusMessage[]>;

  /** Where the log is now: every audience sees the same ids. */
  protected abstract logPosition(): string;

  position(): string {
    // One string per position, not one per stream: each stream keeps its start id.
    const position = this.logPosition();
    if (position !== this.lastPosition) this.lastPosition = position;
    return this.lastPosition;
  }

  lease(_audience: Audience, lastEventId: string | undefined): StreamLease {
    return new LogLease(lastEventId && parseEventId(lastEventId) ? lastEventId : this.position());
  }

  replay(lastEventId: string): AsyncIterable<readonly BusMessage[]> {
    const after = parseEventId(lastEventId);
    if (!after) throw new HistoryGap('malformed');
    return this.history(after);
  }

  membership(clientId: string): Membership {
    return this.memberships.now(clientId);
  }

  /**
   * From the projection, or, for a cursor from before the changes it holds, from the first
   * change of the client in the history after it: the membership before that change.
   */
  async membershipAt(clientId: string, lastEventId: string): Promise<Membership> {
    const at = parseEventId(lastEventId);
    if (at?.epoch !== parseEventId(this.position())!.epoch) return this.membership(clientId);
    return (
      this.memberships.at(clientId, at) ??
      (await membershipBeforeChangeIn(this.history(at), clientId)) ??
      this.membership(clientId)
    );
  }

  /** The memberships as the log read so far leaves them. */
  protected abstract readonly memberships: MembershipProjection;
}

/**
 * The membership before `clientId`'s first change in `history`; undefined when it has none there,
 * or the history cannot be served (its stream is reset, and goes on with the membership now).
 */
async function membershipBeforeChangeIn(
  history: AsyncIterable<readonly BusMessage[]>,
  clientId: string,
): Promise<Membership | undefined> {
  try {
    for await (const page of history) {
      for (const message of page) {
        const change = message.to?.[0] === clientId ? topicChangeOf(message) : undefined;
        if (change) return change.before;
      }
    }
  } catch (err) {
    if (!(err instanceof HistoryGap)) throw err;
  }
  return undefined;
}
