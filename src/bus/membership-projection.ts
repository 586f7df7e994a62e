import type { BusMessage } from './bus-event.js';
import { type LogPosition, START, comparePositions, parseEntryId } from './log-position.js';
import {
  type LoggedChange,
  type Membership,
  NO_MEMBERSHIP,
  changeMembership,
  topicChangeOf,
} from './topic-change.js';

/** Changes held per client: a cursor from before the oldest is answered from the log itself. */
const MAX_CHANGES = 32;

/** A client's membership as one read of the log's keeps it (see `RedisLog.membershipOf`). */
export interface KnownMembership {
  readonly membership: Membership;
  /** Its last change's. */
  readonly position: LogPosition;
  /** On a sharded log, its latest marker's on each shard. */
  readonly marks: ReadonlyMap<number, LogPosition>;
}

/** A change as the projection holds it: where it is, and what it was. */
export interface HeldChange {
  readonly position: LogPosition;
  readonly change: LoggedChange;
}

interface ClientMembership {
  current: Membership;
  /** Its latest changes, oldest first, each with the membership before it. */
  readonly changes: HeldChange[];
  /** Every change after this position is in `changes`: one before it is not known here. */
  since: LogPosition;
  /** On a sharded log, its latest marker's position on each shard. */
  readonly marks: Map<number, LogPosition>;
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
      this.clients.set(clientId, { current, changes: [], since, marks: new Map() });
    }
  }

  /**
   * Applies the change entry `message`, read from the log in order; one at or before what is
   * known of its client already changes nothing.
   */
  apply(message: BusMessage): void {
    const change = topicChangeOf(message)!;
    change.forgotten.forEach((clientId) => this.clients.delete(clientId));
    const clientId = message.to![0];
    const client: ClientMembership = this.clients.get(clientId) ?? {
      current: NO_MEMBERSHIP,
      changes: [],
      since: START,
      marks: new Map(),
    };
    if (comparePositions(message.position, lastKnown(client)) <= 0) return;
    client.changes.push({ position: message.position, change });
    if (client.changes.length > MAX_CHANGES) client.since = client.changes.shift()!.position;
    client.current = changeMembership(change.before, change);
    for (const { shard, id } of change.markers) client.marks.set(shard, parseEntryId(id));
    this.clients.set(clientId, client);
  }

  /**
   * Holds `known` as `clientId`'s membership, unless a later change of it is held already: on a
   * sharded log, where an instance reads the changes of the clients it has streams of only.
   */
  learn(clientId: string, known: KnownMembership | undefined): void {
    const { membership, position, marks } = known ?? {
      membership: NO_MEMBERSHIP,
      position: START,
      marks: new Map(),
    };
    const client = this.clients.get(clientId);
    if (client && comparePositions(position, lastKnown(client)) <= 0) return;
    this.clients.set(clientId, {
      current: membership,
      changes: [],
      since: position,
      marks: new Map(marks),
    });
  }

  /** Forgets `clientId`: its changes are no longer read here. */
  forget(clientId: string): void {
    this.clients.delete(clientId);
  }

  /**
   * `clientId`'s changes after `position`, oldest first; undefined when one it does not hold may
   * lie after it.
   */
  changesAfter(clientId: string, position: LogPosition): readonly HeldChange[] | undefined {
    const client = this.clients.get(clientId);
    if (!client || comparePositions(position, client.since) < 0) return undefined;
    return client.changes.filter((held) => comparePositions(held.position, position) > 0);
  }

  /** Where `clientId`'s latest marker is on each shard, and its latest change. */
  marksOf(clientId: string): {
    readonly last: LogPosition;
    readonly marks: ReadonlyMap<number, LogPosition>;
  } {
    const client = this.clients.get(clientId);
    return client
      ? { last: lastKnown(client), marks: client.marks }
      : { last: START, marks: new Map() };
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
    return next ? next.change.before : client.current;
  }
}

/** The position of the last change known of `client`. */
function lastKnown(client: ClientMembership): LogPosition {
  return client.changes.at(-1)?.position ?? client.since;
}
