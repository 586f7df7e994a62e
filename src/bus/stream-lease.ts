import type { BusEvent, BusMessage } from './bus-event.js';
import { parseEventId } from './event-id.js';
import { comparePositions } from './log-position.js';

/**
 * What one stream holds in the bus while it is open: its place, the id of the last event it has
 * (which its client resumes from), and on a sharded log the channels it listens on. On a log
 * with one order the place is the event's own id, shared by every stream; on a sharded log it is
 * a position per shard the stream reads, so each stream mints its own ids.
 */
export interface StreamLease {
  /** The id of the last event the stream has: where it starts, then each event's. */
  readonly id: string;
  /**
   * Undefined when the bus delivers everything the stream may see; otherwise settles once it does
   * (its channels are subscribed). Nothing is sent to the client before, not even `connected`.
   */
  readonly ready: Promise<void> | undefined;
  /** Whether the stream has `message` already: it is at or before where the stream is. */
  has(message: BusMessage): boolean;
  /** Moves the stream past `event`; returns the id that goes out with it. */
  advance(event: BusEvent): string;
  /**
   * Lets go of what the bus keeps for the stream (its channels); absent when it keeps nothing,
   * so that a stream on a log with one order holds no teardown for it.
   */
  unsubscribe?(): void;
  /**
   * The stream is on `topics` no longer: lets go of their channels; absent where it listens on
   * none.
   */
  leave?(topics: readonly string[]): void;
}

/** A stream on a log with one order: its place is the id of the last event it got. */
export class LogLease implements StreamLease {
  readonly ready = undefined;

  constructor(public id: string) {}

  has(message: BusMessage): boolean {
    const at = parseEventId(this.id);
    return at !== undefined && comparePositions(message.position, at) <= 0;
  }

  advance(event: BusEvent): string {
    return (this.id = event.id);
  }
}
