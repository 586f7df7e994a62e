import {
  HISTORY_PAGE_SIZE,
  HistoryGap,
  type OutgoingMessage,
  SingleLogTransport,
  type TransportHealth,
} from '../bus-transport.js';
import type { BusMessage } from '../bus-event.js';
import { type LogEventId, formatEventId, newEpoch } from '../event-id.js';
import type { IdempotencyLimits } from '../idempotency.js';
import { type LogPosition, START, comparePositions } from '../log-position.js';
import { TooManyTopicsError } from '../../errors/too-many-topics.error.js';
import { type BoundedTopicChange, type Membership, joinedPastLimit } from '../topic-change.js';
import { MemoryMembership } from './memory-membership.js';
import { RecentWindow } from './recent-window.js';
import { SeenKeys } from './seen-keys.js';

/**
 * The embedded bus: one process, an in-memory log with the same ids, ordering and resume rules
 * as the Redis transport. Its history dies with the process, and a new process has a new epoch.
 */
export class MemoryTransport extends SingleLogTransport {
  private readonly epoch = newEpoch();
  private top: LogPosition = START;
  /** The history: the newest messages, by count and bytes; the newest always stays. */
  private readonly log: RecentWindow;
  private readonly seen: SeenKeys;
  protected readonly memberships: MemoryMembership;

  constructor(
    maxLength: number,
    maxBytes: number,
    idempotency: IdempotencyLimits,
    membershipTtlMs: number,
  ) {
    super();
    this.log = new RecentWindow(maxLength, maxBytes, 1);
    this.seen = new SeenKeys(idempotency);
    this.memberships = new MemoryMembership(membershipTtlMs);
    this.log.restart(this.epoch, START);
  }

  protected logPosition(): string {
    return formatEventId(this.epoch, this.top);
  }

  async publish(message: OutgoingMessage): Promise<string> {
    const { idempotency, topicChange, to, topics, event } = message;
    const now = Date.now();
    const seen = idempotency && this.seen.idOf(idempotency, now);
    if (seen) return seen;
    // With the membership it changes, as the Redis log writes a change; before the log moves, as
    // a change refused takes no place in it.
    const data = topicChange ? this.logged(to![0], topicChange, now) : message.data;
    const ms = Math.max(now, this.top.ms);
    this.top = { ms, seq: ms === this.top.ms ? this.top.seq + 1 : 0 };
    // Named one by one: a rest pattern (`...message`) copies through a runtime call each time.
    const stored: BusMessage = {
      kind: 'message',
      id: formatEventId(this.epoch, this.top),
      position: this.top,
      to,
      topics,
      event,
      data,
    };
    if (idempotency) this.seen.remember(idempotency, stored.id, now);
    if (topicChange) this.memberships.change(stored, now);
    this.log.add(stored);
    this.read$.next(stored);
    return stored.id;
  }

  async *history(after: LogEventId): AsyncIterable<readonly BusMessage[]> {
    if (after.epoch !== this.epoch) throw new HistoryGap('epoch');
    if (comparePositions(after, this.top) > 0) throw new HistoryGap('ahead');
    for (let from: LogPosition = after; ;) {
      // Undefined: from before what it keeps, or trimmed past while the last page was written.
      const page = this.log.after({ epoch: this.epoch, ...from }, HISTORY_PAGE_SIZE);
      if (!page) throw new HistoryGap('expired');
      if (page.length === 0) return;
      yield page;
      from = page[page.length - 1].position;
    }
  }

  override membership(clientId: string): Membership {
    this.memberships.expire(Date.now());
    return super.membership(clientId);
  }

  keepMembership(clientId: string): void {
    this.memberships.keep(clientId, Date.now());
  }

  async keepMemberships(clientIds: Iterable<string>): Promise<void> {
    const now = Date.now();
    for (const clientId of clientIds) this.memberships.keep(clientId, now);
  }

  async trimBefore(ms: number): Promise<void> {
    this.log.dropBefore(ms);
  }

  health(): TransportHealth {
    return { transport: 'memory', reading: true, writing: true };
  }

  async start(): Promise<void> {}

  /**
   * The data of `change` of `clientId`'s topics, with the membership before it; throws
   * `TooManyTopicsError` when it would take the client past the change's limit.
   */
  private logged(clientId: string, change: BoundedTopicChange, now: number): string {
    this.memberships.expire(now);
    const before = this.memberships.now(clientId);
    const joined = joinedPastLimit(before, change);
    if (joined !== undefined) throw new TooManyTopicsError(joined, change.maxJoined);
    const { join, leave } = change;
    return JSON.stringify({ join, leave, before, forgotten: [] });
  }

  async close(): Promise<void> {
    this.read$.complete();
  }
}
