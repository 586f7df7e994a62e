import type { BusMessage } from '../bus-event.js';
import {
  HISTORY_PAGE_SIZE,
  HistoryGap,
  type OutgoingMessage,
  SingleLogTransport,
  type TransportHealth,
} from '../bus-transport.js';
import { type LogEventId, formatEventId, newEpoch } from '../event-id.js';
import { type LogPosition, START, comparePositions, indexAfter } from '../log-position.js';

/**
 * The embedded bus: one process, an in-memory log with the same ids, ordering and resume rules
 * as the Redis transport. Its history dies with the process, and a new process has a new epoch.
 */
export class MemoryTransport extends SingleLogTransport {
  private readonly epoch = newEpoch();
  private readonly log: BusMessage[] = [];
  private logBytes = 0;
  private top: LogPosition = START;
  /** The last message trimmed off the log: a cursor before it has missed messages. */
  private trimmedTo: LogPosition | undefined;
  private readonly slack: number;

  constructor(
    private readonly maxLength: number,
    private readonly maxBytes: number,
  ) {
    super();
    this.slack = Math.max(1, Math.ceil(maxLength / 10));
  }

  protected logPosition(): string {
    return formatEventId(this.epoch, this.top);
  }

  async publish(message: OutgoingMessage): Promise<string> {
    const ms = Math.max(Date.now(), this.top.ms);
    this.top = { ms, seq: ms === this.top.ms ? this.top.seq + 1 : 0 };
    const stored: BusMessage = {
      kind: 'message',
      id: formatEventId(this.epoch, this.top),
      position: this.top,
      ...message,
    };
    this.log.push(stored);
    this.logBytes += Buffer.byteLength(stored.data);
    if (this.log.length > this.maxLength + this.slack || this.logBytes > this.maxBytes) {
      this.trim();
    }
    this.read$.next(stored);
    return stored.id;
  }

  async *history(after: LogEventId): AsyncIterable<readonly BusMessage[]> {
    if (after.epoch !== this.epoch) throw new HistoryGap('epoch');
    if (comparePositions(after, this.top) > 0) throw new HistoryGap('ahead');
    if (this.trimmedTo && comparePositions(after, this.trimmedTo) < 0) {
      throw new HistoryGap('expired');
    }
    let index = indexAfter(this.log, after);
    while (index < this.log.length) {
      const page = this.log.slice(index, index + HISTORY_PAGE_SIZE);
      const last = page[page.length - 1].position;
      yield page;
      // The log may have been trimmed while the page was written: find where we were again.
      if (this.trimmedTo && comparePositions(last, this.trimmedTo) < 0) {
        throw new HistoryGap('expired');
      }
      index = indexAfter(this.log, last);
    }
  }

  async trimBefore(ms: number): Promise<void> {
    const count = indexAfter(this.log, { ms: ms - 1, seq: Number.MAX_SAFE_INTEGER });
    this.dropFirst(count, this.logBytes - this.dataBytes(count));
  }

  health(): TransportHealth {
    return { transport: 'memory', reading: true, writing: true };
  }

  async start(): Promise<void> {}

  async close(): Promise<void> {
    this.read$.complete();
  }

  /**
   * Trims in batches, as Redis trims with `MAXLEN ~`: one splice per message would make every
   * publish O(history). Down to `maxLength` messages and a tenth under `maxBytes`; the newest
   * message always stays, so that the log knows where it is.
   */
  private trim(): void {
    const byteTarget = this.maxBytes - Math.ceil(this.maxBytes / 10);
    let count = Math.max(0, this.log.length - this.maxLength);
    let bytes = this.logBytes - this.dataBytes(count);
    while (bytes > byteTarget && count < this.log.length - 1) {
      bytes -= Buffer.byteLength(this.log[count++].data);
    }
    this.dropFirst(count, bytes);
  }

  /** Bytes of data of the oldest `count` messages. */
  private dataBytes(count: number): number {
    let bytes = 0;
    for (let i = 0; i < count; i++) bytes += Buffer.byteLength(this.log[i].data);
    return bytes;
  }

  /** Drops the oldest `count` messages, leaving `bytes` of data. */
  private dropFirst(count: number, bytes: number): void {
    if (count === 0) return;
    this.trimmedTo = this.log[count - 1].position;
    this.log.splice(0, count);
    this.logBytes = bytes;
  }
}
