import { DeadlineExceeded } from '../../redis/deadline.js';

/** How large one batch may grow before it is sent on its own. */
export interface BatchLimits<T> {
  readonly maxItems: number;
  readonly maxBytes: number;
  readonly bytesOf: (item: T) => number;
}

/**
 * Sends a batch: one result per item, in order. `until` is the last of the items' deadlines,
 * past which nobody waits for the answer any more.
 */
export type Flush<T, R> = (items: T[], until: number) => Promise<R[]>;

interface Waiting<R> {
  readonly resolve: (result: R) => void;
  readonly reject: (err: unknown) => void;
  readonly deadline: number;
}

/**
 * Coalesces the items added during one turn of the event loop into one call of `flush`; each
 * `add` settles with its own item's result, or with the call's failure, or rejects with
 * `DeadlineExceeded` at its own deadline if the call has not answered by then.
 *
 * The batch goes out on `setImmediate`, once the turn's I/O callbacks and their microtasks have
 * run: everything a socket read's worth of requests (or the replies of the previous batch) led
 * to joins it, at no cost in latency to a lone item. A microtask would go before most of them,
 * whose `add` comes a few promise hops later. A batch that reaches `maxItems` or `maxBytes` goes
 * out at once, so no single call grows without bound; an item larger than `maxBytes` goes alone.
 *
 * The deadlines take one timer per batch, not one per item: a timer each cost as much CPU as
 * the rest of a publish's way through the batch.
 */
export class PublishBatch<T, R> {
  private items: T[] = [];
  private waiting: Waiting<R>[] = [];
  private bytes = 0;
  private scheduled = false;

  constructor(
    private readonly flush: Flush<T, R>,
    private readonly limits: BatchLimits<T>,
  ) {}

  add(item: T, deadline: number): Promise<R> {
    const bytes = this.limits.bytesOf(item);
    if (this.items.length > 0 && this.bytes + bytes > this.limits.maxBytes) this.send();
    const result = new Promise<R>((resolve, reject) =>
      this.waiting.push({ resolve, reject, deadline }),
    );
    this.items.push(item);
    this.bytes += bytes;
    if (this.items.length >= this.limits.maxItems || this.bytes >= this.limits.maxBytes) {
      this.send();
    } else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        if (this.items.length > 0) this.send();
      });
    }
    return result;
  }

  private send(): void {
    const items = this.items;
    const waiting = this.waiting;
    this.items = [];
    this.waiting = [];
    this.bytes = 0;
    const until = Math.max(...waiting.map((w) => w.deadline));
    let answer: Promise<R[]>;
    try {
      answer = this.flush(items, until);
    } catch (err) {
      answer = Promise.reject(err);
    }
    const stop = expireEach(waiting);
    // Settling an add that has expired does nothing.
    answer.then(
      (results) => {
        stop();
        waiting.forEach((w, i) => w.resolve(results[i]));
      },
      (err: unknown) => {
        stop();
        waiting.forEach((w) => w.reject(err));
      },
    );
  }
}

/** Rejects each of `waiting` at its deadline, one timer at a time; returns what stops it. */
function expireEach<R>(waiting: Waiting<R>[]): () => void {
  let timer: NodeJS.Timeout;
  const arm = (left: Waiting<R>[]) => {
    const next = Math.min(...left.map((w) => w.deadline));
    timer = setTimeout(() => {
      const now = Date.now();
      for (const w of left) {
        if (w.deadline <= now) w.reject(new DeadlineExceeded('not answered in time'));
      }
      const later = left.filter((w) => w.deadline > now);
      if (later.length > 0) arm(later);
    }, next - Date.now());
  };
  arm(waiting);
  return () => clearTimeout(timer);
}
