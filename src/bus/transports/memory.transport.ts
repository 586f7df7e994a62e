import { Subject } from 'rxjs';
import type { BusEvent, BusMessage } from '../bus-event.js';
import {
  type OutgoingMessage,
  BusTransport,
  HistoryGap,
  type TransportHealth,
} from '../bus-transport.js';
import {
  type Cursor,
  type StreamPosition,
  START,
  comparePositions,
  formatCursor,
  newEpoch,
} from '../cursor.js';
import { HISTORY_PAGE_SIZE } from './history-page-size.js';

/**
 * The embedded bus: one process, an in-memory log with the same ids, ordering and resume rules
 * as the Redis transport. Its history dies with the process, and a new process has a new epoch.
 */
export class MemoryTransport extends BusTransport {
  private readonly subject = new Subject<BusEvent>();
  readonly events$ = this.subject.asObservable();
  private readonly epoch = newEpoch();
  private readonly log: BusMessage[] = [];
  private top: StreamPosition = START;
  private trimmed = false;
  private readonly slack: number;

  constructor(private readonly maxLength: number) {
    super();
    this.slack = Math.max(1, Math.ceil(maxLength / 10));
  }

  position(): string {
    return formatCursor(this.epoch, this.top);
  }

  async publish(message: OutgoingMessage): Promise<string> {
    const ms = Math.max(Date.now(), this.top.ms);
    this.top = { ms, seq: ms === this.top.ms ? this.top.seq + 1 : 0 };
    const stored: BusMessage = {
      kind: 'message',
      id: formatCursor(this.epoch, this.top),
      position: this.top,
      ...message,
    };
    this.log.push(stored);
    // Trimmed in batches, as Redis trims with `MAXLEN ~`: one splice per message would make
    // every publish O(history). At least `maxLength` messages are always kept.
    if (this.log.length > this.maxLength + this.slack) {
      this.log.splice(0, this.log.length - this.maxLength);
      this.trimmed = true;
    }
    this.subject.next(stored);
    return stored.id;
  }

  async *history(cursor: Cursor): AsyncIterable<readonly BusMessage[]> {
    if (cursor.epoch !== this.epoch) throw new HistoryGap('epoch');
    if (comparePositions(cursor, this.top) > 0) throw new HistoryGap('ahead');
    const first = this.log[0];
    if (this.trimmed && (!first || comparePositions(cursor, first.position) < 0)) {
      throw new HistoryGap('expired');
    }
    let index = this.indexAfter(cursor);
    while (index < this.log.length) {
      const page = this.log.slice(index, index + HISTORY_PAGE_SIZE);
      const last = page[page.length - 1].position;
      yield page;
      // The log may have been trimmed while the page was written: find where we were again.
      if (this.trimmed && comparePositions(last, this.log[0].position) < 0) {
        throw new HistoryGap('expired');
      }
      index = this.indexAfter(last);
    }
  }

  health(): TransportHealth {
    return { transport: 'memory', reading: true, writing: true };
  }

  async start(): Promise<void> {}

  async close(): Promise<void> {
    this.subject.complete();
  }

  /** The index of the first message after `position` (binary search: the log is ordered). */
  private indexAfter(position: StreamPosition): number {
    let low = 0;
    let high = this.log.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (comparePositions(this.log[middle].position, position) <= 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
