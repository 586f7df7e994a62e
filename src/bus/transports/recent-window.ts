import type { BusMessage } from '../bus-event.js';
import type { LogEventId } from '../event-id.js';
import { type LogPosition, START, comparePositions, indexAfter } from '../log-position.js';
import { heldBytes } from '../message-size.js';

/**
 * The most recent messages of a log, in memory: the embedded bus's whole history, and, with
 * Redis, what this process's reader read last, so that clients resuming from a recent cursor (a
 * reconnect storm: thousands from the same few places) are served without one history read from
 * Redis each.
 *
 * It holds an unbroken run of the log: every message after `base` up to the last one added, as
 * the log is read (or written) in order. It only answers a cursor it can prove that of: one of its
 * epoch, not before `base` and not after the last message read. Anything else (a cursor older
 * than what it holds, one ahead of this reader, another epoch) is for the log itself to answer,
 * gaps included: the window never hides a message, nor passes a gap off as a history.
 *
 * Bounded by count and by bytes (each message's whole: data, client ids, topics, event name and
 * an estimate of the rest, `heldBytes`), as the embedded history is; by count at most the log's
 * own `MAXLEN ~` bound, which never trims below it, so it holds nothing the log has trimmed by
 * length. The age cut is applied here by this instance's retention: another instance's may have
 * cut a little earlier, in which case the window still serves what the log would call expired.
 * The client then gets more of the history, never less.
 */
export class RecentWindow {
  private epoch = '';
  /** Everything after it, up to the last message read, is held. */
  private base: LogPosition = START;
  /**
   * Held messages from `head` on. A dropped one is let go at once and its slot cleared in
   * batches: dropping stays O(1) a message, and nothing dropped is kept alive meanwhile.
   */
  private messages: (BusMessage | undefined)[] = [];
  /** What each of `messages` counts for, at the same index. */
  private sizes: number[] = [];
  private head = 0;
  private bytes = 0;

  /** `keep`: messages it keeps whatever their size (the embedded bus keeps its newest one). */
  constructor(
    private readonly maxLength: number,
    private readonly maxBytes: number,
    private readonly keep = 0,
  ) {}

  get size(): number {
    return this.messages.length - this.head;
  }

  /**
   * Holds nothing, and starts a run at `position` of `epoch`: the reader reads on from there.
   * Called whenever it cannot vouch that the next message it reads follows the last one held.
   */
  restart(epoch: string, position: LogPosition): void {
    this.epoch = epoch;
    this.base = position;
    this.messages = [];
    this.sizes = [];
    this.head = 0;
    this.bytes = 0;
  }

  /** The message the reader read next: it follows the last one held (or the restart position). */
  add(message: BusMessage): void {
    const bytes = heldBytes(message);
    this.messages.push(message);
    this.sizes.push(bytes);
    this.bytes += bytes;
    while (this.size > this.maxLength || (this.bytes > this.maxBytes && this.size > this.keep)) {
      this.dropFirst();
    }
  }

  /** Drops the messages from before `ms`, as the age retention does in the log. */
  dropBefore(ms: number): void {
    while (this.size > 0 && this.messages[this.head]!.position.ms < ms) this.dropFirst();
  }

  /**
   * Up to `limit` messages after `cursor`, oldest first (none: the cursor is up to date), or
   * `undefined` when the window cannot tell.
   */
  after(cursor: LogEventId, limit: number): readonly BusMessage[] | undefined {
    if (cursor.epoch !== this.epoch || comparePositions(cursor, this.base) < 0) return undefined;
    const last = this.size > 0 ? this.messages[this.messages.length - 1]!.position : this.base;
    if (comparePositions(cursor, last) > 0) return undefined;
    const held = this.messages as readonly BusMessage[];
    const from = indexAfter(held, cursor, this.head);
    return held.slice(from, from + limit);
  }

  private dropFirst(): void {
    const dropped = this.messages[this.head]!;
    this.messages[this.head++] = undefined;
    this.base = dropped.position;
    this.bytes -= this.sizes[this.head - 1];
    if (this.head > 1024 && this.head * 2 > this.messages.length) {
      this.messages.splice(0, this.head);
      this.sizes.splice(0, this.head);
      this.head = 0;
    }
  }
}
