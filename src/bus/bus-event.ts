import type { LogPosition } from './log-position.js';

/** A published message as every instance sees it. `data` is the JSON text, serialized once. */
export interface BusMessage {
  readonly kind: 'message';
  /**
   * The event id: `<epoch>.<ms>-<seq>` on a log with one order, the same on every instance; on a
   * sharded log, the copy's place on its shard (each stream gives it an id of its own).
   */
  readonly id: string;
  readonly position: LogPosition;
  /** Client ids it is addressed to; `null` for everyone. */
  readonly to: readonly string[] | null;
  /** Topics it is published on; `null` for none. */
  readonly topics: readonly string[] | null;
  readonly event: string | undefined;
  readonly data: string;
  /** On a sharded log, the shard this copy was read from. */
  readonly shard?: number;
  /**
   * On a sharded log, set when the message was written to more than one shard: how many shards
   * the log has. A stream takes one copy of it (see `designatedShard`).
   */
  readonly spread?: number;
}

/**
 * The log lost its history (a Redis that restarted empty, an unknown or expired cursor): whoever
 * receives it must refetch its state. `id` is the position live messages continue from.
 */
export interface BusReset {
  readonly kind: 'reset';
  readonly id: string;
  readonly position: LogPosition;
  readonly reason: ResetReason;
  /** On a sharded log, the shard that lost its history; absent: all of them. */
  readonly shard?: number;
}

export type ResetReason = 'malformed' | 'epoch' | 'expired' | 'ahead' | 'lost';

export type BusEvent = BusMessage | BusReset;

/** Who a stream is: its client, and the topics it subscribed to (`null`: none). */
export interface Audience {
  readonly clientId: string;
  readonly topics: ReadonlySet<string> | null;
  /**
   * On a sharded log, where they differ from `topics` (whose far leaves take effect at their
   * markers), the topics as its client's changes leave them in their own shard's order: what a
   * message to the client, on that shard, is judged by. Absent: the same as `topics`.
   */
  readonly clientTopics?: ReadonlySet<string> | null;
  /**
   * On a sharded log, the topics its client left and joined again before the stream met the
   * leave's marker on the topic's shard: see `Rejoin`. Absent: none.
   */
  readonly rejoins?: Rejoins;
}

/**
 * A topic a stream is on that its client left, then joined again, before the stream met the
 * leave's marker (both changes are on the client's shard, the markers on the topic's): the leave's
 * marker does not take the stream off the topic, it only stops its messages until the join's
 * marker, as the changes' markers say, and the stream keeps listening on its channel.
 */
export interface Rejoin {
  /** The topic's shard. */
  readonly shard: number;
  /** The markers of the joins again the stream has read and not met yet, in order. */
  readonly markers: readonly LogPosition[];
  /** Met a leave's marker: the topic's messages do not count until the first of `markers`. */
  readonly off: boolean;
}

export type Rejoins = ReadonlyMap<string, Rejoin>;
