import type { BusMessage } from './bus-event.js';
import { type LogPosition, START, comparePositions } from './log-position.js';
import { type Membership, NO_MEMBERSHIP, changeMembership, topicChangeOf } from './topic-change.js';

/** Changes held per client: a cursor from before the oldest is answered from the log itself. */
const MAX_CHANGES = 32;

interface ClientMembership {
  current: Membership;
  /** Its latest changes, oldest first, each with the membership before it. */
  readonly changes: { readonly position: LogPosition; readonly before: Membership }[];
  /** Every change after this position is in `changes`: one before it is not known here. */
  since: LogPosition;
}

/**
 * The memberships of every client, as the log read so far leaves them: kept from the change
 * entries read, in log order, so that a stream opens with its client's at once, with no command.
 * Each change carries the membership before it, so what a stream resuming from before a recent
 * change started with is known too. At most `MAX_CHANGES + 1` memberships a client.
 */
export class MembershipProjection {
  protected readonly clients = new Map<string, ClientMembership>();

  /** Holds `memberships` (client id, membership, its last change's position) and nothing else. */
  restart(memberships: Iterable<readonly [string, Membership, LogPosition]>): void {
    this.clients.clear();
    for (const [clientId, current, since] of memberships) {
      this.clients.set(clientId, { current, changes: [], since });
    }
  }

  /** Applies the change entry `message`, read from the log in order. */
  apply(message: BusMessage): void {
    const change = topicChangeOf(message)!;
    change.forgotten.forEach((clientId) => this.clients.delete(clientId));
    const clientId = message.to![0];
    const client = this.clients.get(clientId) ?? {
      current: NO_MEMBERSHIP,
      changes: [],
      since: START,
    };
    client.changes.push({ position: message.position, before: change.before });
    if (client.changes.length > MAX_CHANGES) client.since = client.changes.shift()!.position;
    client.current = changeMembership(change.before, change);
    this.clients.set(clientId, client);
  }

  /** `clientId`'s membership after the last change read. */
  now(clientId: string): Membership {
    return this.clients.get(clientId)?.current ?? NO_MEMBERSHIP;
  }

  has(clientId: string): boolean {
    return this.clients.has(clientId);
  }

  /**
   * `clientId`'s membership as it stood at `position`: the one before its first change after it,
   * or the current one. Undefined when a change it no longer holds may lie after `position`.
   */
  at(clientId: string, position: LogPosition): Membership | undefined {
    const client = this.clients.get(clientId);
    if (!client) return NO_MEMBERSHIP;
    if (comparePositions(position, client.since) < 0) return undefined;
    const next = client.changes.find((change) => comparePositions(change.position, position) > 0);
    return next ? next.before : client.current;
  }
}
