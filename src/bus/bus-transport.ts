import { type Observable, Subject } from 'rxjs';
import type { Audience, BusEvent, BusMessage, ResetReason } from './bus-event.js';
import { type LogEventId, parseEventId } from './event-id.js';
import type { Idempotency } from './idempotency.js';
import { LogLease, type StreamLease } from './stream-lease.js';
import type { Membership, TopicChange } from './topic-change.js';

/** A message on its way to the log: `data` is already JSON text. */
export interface OutgoingMessage {
  readonly to: readonly string[] | null;
  readonly topics: readonly string[] | null;
  readonly event: string | undefined;
  readonly data: string;
  /** Set: a message with the same key seen within the window is not appended again. */
  readonly idempotency?: Idempotency;
  /** Set: a change of its one client's topics, which the log keeps as its membership too. */
  readonly topicChange?: TopicChange;
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

  /**
   * The messages after `lastEventId` that `audience` may see (or more: the caller filters), a
   * page at a time, in log order (shard after shard on a sharded log). Throws `HistoryGap` when
   * it cannot give all of them: never a partial history passed off as complete.
   */
  abstract replay(lastEventId: string, audience: Audience): AsyncIterable<readonly BusMessage[]>;

  /**
   * `clientId`'s membership as it stood at each of `ids` (one that is no id of this bus: now),
   * kept from now on for the membership's time to live.
   */
  abstract membershipAt(clientId: string, ids: readonly string[]): Promise<Membership[]>;

  /** Keeps `clientId`'s membership for its time to live from now: its last stream here ended. */
  abstract keepMembership(clientId: string): void;

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
}
