import type { StreamPosition } from './cursor.js';
import { designatedShard } from './shards.js';

/** A published message as every instance sees it. `data` is the JSON text, serialized once. */
export interface BusMessage {
  readonly kind: 'message';
  /** The event id: `<epoch>.<ms>-<seq>`, the same on every instance. */
  readonly id: string;
  readonly position: StreamPosition;
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
   * the log has. A stream takes one copy of it (see `isVisibleTo`).
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
  readonly position: StreamPosition;
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
}

/**
 * Whether a stream of `audience` gets `event`. A message on topics reaches the streams
 * subscribed to one of them (and with client ids, only theirs); one without reaches every stream
 * (or those of its client ids).
 */
export function isVisibleTo(event: BusEvent, audience: Audience): boolean {
  if (event.kind === 'reset') return true;
  if (event.to !== null && !event.to.includes(audience.clientId)) return false;
  return reaches(event, audience);
}

/**
 * Whether `message`, addressed to everyone or to `audience`'s client among others, reaches a
 * stream of `audience`: it is on none of its topics or on one of them, and (on a sharded log) it
 * is the copy that stream takes.
 */
export function reaches(message: BusMessage, audience: Audience): boolean {
  const { topics } = audience;
  if (message.topics !== null && (topics === null || !message.topics.some((t) => topics.has(t)))) {
    return false;
  }
  return (
    message.spread === undefined ||
    message.shard === designatedShard(message, audience, message.spread)
  );
}
