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

/** Who waits for one or more items' results: told once for each, by the item's place. */
interface Waiter<R> {
  /** `value`: the result when `ok`, else why there is none. */
  settle(at: number, ok: boolean, value: R | unknown): void;
}

interface Waiting<R> {
  readonly waiter: Waiter<R>;
  readonly at: number;
  readonly deadline: number;
}

/** One item's result, as its promise: told twice (expired, then answered), the first counts. */
class One<R> implements Waiter<R> {
  readonly result: Promise<R>;
  private resolve!: (result: R) => void;
  private reject!: (err: unknown) => void;

  constructor() {
    this.result = new Promise<R>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  settle(_at: number, ok: boolean, value: R | unknown): void {
    if (ok) this.resolve(value as R);
    else this.reject(value);
  }
}

/** The results of items added together, as one promise once each has its own. */
class All<R> implements Waiter<R> {
  readonly results: Promise<PromiseSettledResult<R>[]>;
  private readonly outcomes: PromiseSettledResult<R>[];
  private left: number;
  private resolve!: (outcomes: PromiseSettledResult<R>[]) => void;

  constructor(count: number) {
    this.outcomes = new Array<PromiseSettledResult<R>>(count);
    this.left = count;
    this.results = new Promise((resolve) => (this.resolve = resolve));
  }

  settle(at: number, ok: boolean, value: R | unknown): void {
    if (this.outcomes[at] !== undefined) return;
    this.outcomes[at] = ok
      ? { status: 'fulfilled', value: value as R }
      : { status: 'rejected', reason: value };
    if (--this.left === 0) this.resolve(this.outcomes);
  }
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
 * While a call is in flight, a batch that is not full waits for its answer: with 32 publishes
 * over HTTP at once, calls carried 3 messages each without it, and each call is a command written
 * (a syscall that wakes Redis) and a reply read; held, a publish cost 0.93x to 0.95x the CPU. What
 * is held goes out at the first held item's deadline if the call has not answered by then; an
 * item already past its own then is rejected, and not sent.
 *
 * The deadlines take one timer per batch, not one per item: a timer each cost as much CPU as
 * the rest of a publish's way through the batch.
 */
export class PublishBatch<T, R> {
  private items: T[] = [];
  private waiting: Waiting<R>[] = [];
  private bytes = 0;
  private scheduled = false;
  /** Calls sent and not answered yet. */
  private inFlight = 0;
  /** Sends what is held at the first held item's deadline, should the call in flight take longer. */
  private holding: NodeJS.Timeout | undefined;

  constructor(
    private readonly flush: Flush<T, R>,
    private readonly limits: BatchLimits<T>,
  ) {}

  add(item: T, deadline: number): Promise<R> {
    const one = new One<R>();
    this.push(item, one, 0, deadline);
    return one.result;
  }

  /**
   * Adds `items` together: one promise for all, which resolves once each has its result, in
   * their order; no promise for each, which a batch of a hundred messages felt.
   */
  addAll(items: readonly T[], deadline: number): Promise<PromiseSettledResult<R>[]> {
    if (items.length === 0) return Promise.resolve([]);
    const all = new All<R>(items.length);
    items.forEach((item, at) => this.push(item, all, at, deadline));
    return all.results;
  }

  private push(item: T, waiter: Waiter<R>, at: number, deadline: number): void {
    const bytes = this.limits.bytesOf(item);
    if (this.items.length > 0 && this.bytes + bytes > this.limits.maxBytes) this.send();
    this.waiting.push({ waiter, at, deadline });
    this.items.push(item);
    this.bytes += bytes;
    if (this.items.length >= this.limits.maxItems || this.bytes >= this.limits.maxBytes) {
      this.send();
    } else if (this.inFlight === 0) {
      this.schedule();
    } else {
      this.hold(deadline);
    }
  }

  /** Sends what is held at `deadline`, should the call in flight not have answered by then. */
  private hold(deadline: number): void {
    this.holding ??= setTimeout(() => {
      this.holding = undefined;
      // A timer may fire a little before `Date.now()` reaches its time (the loop's clock is read
      // once a turn): the item that armed it would go out within its deadline after all.
      if (Date.now() < deadline) this.hold(deadline);
      else this.send();
    }, deadline - Date.now());
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.items.length > 0) this.send();
    });
  }

  private send(): void {
    clearTimeout(this.holding);
    this.holding = undefined;
    const now = Date.now();
    let { items, waiting } = this;
    // Only an item held behind a call can be past its deadline here.
    if (waiting.some((w) => w.deadline <= now)) ({ items, waiting } = this.unexpired(now));
    this.items = [];
    this.waiting = [];
    this.bytes = 0;
    if (items.length === 0) return;
    const until = Math.max(...waiting.map((w) => w.deadline));
    let answer: Promise<R[]>;
    try {
      answer = this.flush(items, until);
    } catch (err) {
      answer = Promise.reject(err);
    }
    const stop = expireEach(waiting);
    this.inFlight++;
    // Settling an add that has expired does nothing.
    answer.then(
      (results) => {
        this.answered(stop);
        waiting.forEach((w, i) => w.waiter.settle(w.at, true, results[i]));
      },
      (reason: unknown) => {
        this.answered(stop);
        waiting.forEach((w) => w.waiter.settle(w.at, false, reason));
      },
    );
  }

  /** The items still within their deadlines; the others are rejected, and not sent. */
  private unexpired(now: number): { items: T[]; waiting: Waiting<R>[] } {
    const items: T[] = [];
    const waiting: Waiting<R>[] = [];
    this.waiting.forEach((w, i) => {
      if (w.deadline > now) {
        items.push(this.items[i]);
        waiting.push(w);
      } else w.waiter.settle(w.at, false, new DeadlineExceeded('not sent in time'));
    });
    return { items, waiting };
  }

  /** A partial batch waits for the calls in flight: the adds of their time go out together. */
  private answered(stop: () => void): void {
    stop();
    if (--this.inFlight === 0 && this.items.length > 0) this.schedule();
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
        if (w.deadline <= now) {
          w.waiter.settle(w.at, false, new DeadlineExceeded('not answered in time'));
        }
      }
      const later = left.filter((w) => w.deadline > now);
      if (later.length > 0) arm(later);
    }, next - Date.now());
  };
  arm(waiting);
  return () => clearTimeout(timer);
}
