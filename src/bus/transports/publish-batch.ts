/** How large one batch may grow before it is sent on its own. */
export interface BatchLimits<T> {
  readonly maxItems: number;
  readonly maxBytes: number;
  readonly bytesOf: (item: T) => number;
}

interface Waiting<R> {
  readonly resolve: (result: R) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Coalesces the items added during one turn of the event loop into one call of `flush`, which
 * answers with one result per item, in order; each `add` settles with its own item's result, or
 * with the call's failure.
 *
 * The batch goes out on `setImmediate`, once the turn's I/O callbacks and their microtasks have
 * run: everything a socket read's worth of requests (or the replies of the previous batch) led
 * to joins it, at no cost in latency to a lone item. A microtask would go before most of them,
 * whose `add` comes a few promise hops later. A batch that reaches `maxItems` or `maxBytes` goes
 * out at once, so no single call grows without bound; an item larger than `maxBytes` goes alone.
 */
export class PublishBatch<T, R> {
  private items: T[] = [];
  private waiting: Waiting<R>[] = [];
  private bytes = 0;
  private scheduled = false;

  constructor(
    private readonly flush: (items: T[]) => Promise<R[]>,
    private readonly limits: BatchLimits<T>,
  ) {}

  add(item: T): Promise<R> {
    const bytes = this.limits.bytesOf(item);
    if (this.items.length > 0 && this.bytes + bytes > this.limits.maxBytes) this.send();
    const result = new Promise<R>((resolve, reject) => this.waiting.push({ resolve, reject }));
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
    let answer: Promise<R[]>;
    try {
      answer = this.flush(items);
    } catch (err) {
      answer = Promise.reject(err);
    }
    answer.then(
      (results) => waiting.forEach((w, i) => w.resolve(results[i])),
      (err: unknown) => waiting.forEach((w) => w.reject(err)),
    );
  }
}
