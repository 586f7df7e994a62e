import type { BusEvent, BusMessage } from './bus-event.js';
import { comparePositions, parseCursor } from './cursor.js';

/**
 * Where one stream is in the bus: the id of the last event it has, which is what its client
 * resumes from. On a log with one order that is the event's own id, shared by every stream; on a
 * sharded log it is a position per shard the stream reads, so each stream mints its own ids.
 */
export interface StreamCursor {
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
  /** The stream is over: what the bus kept for it goes. */
  close(): void;
}

/** A stream on a log with one order: its place is the id of the last event it got. */
export class LogCursor implements StreamCursor {
  readonly ready = undefined;

  constructor(public id: string) {}

  has(message: BusMessage): boolean {
    const at = parseCursor(this.id);
    return at !== undefined && comparePositions(message.position, at) <= 0;
  }

  advance(event: BusEvent): string {
    return (this.id = event.id);
  }

  close(): void {}
}
