import {
  Observable,
  Subscriber,
  Subscription,
  type TeardownLogic,
  type Unsubscribable,
} from 'rxjs';

/*
 * The two places sse-bus subclasses RxJS, both to hold less per open connection: a stream lives
 * as long as its connection, so each closure, wrapper subscriber and finalizer array RxJS would
 * allocate for it is paid for by every connection (the usual operators took about 2 KiB each).
 * They rely on what RxJS 7 does but does not document; `test/unit/rxjs-subclasses.spec.ts` pins
 * each of those behaviours, so that an RxJS that changes one fails a test rather than a stream.
 */

/**
 * A subscriber whose events go to `receive`, `fail` and `finish`, that keeps its first teardown
 * (usually its only one: the router's membership) in a field where RxJS would allocate an array,
 * and is told once it is `released`. Subscribed as it is (`source.subscribe(this)`), with no
 * wrapper between the source and it.
 *
 * Relies on: `next`, `error` and `complete` calling `_next`, `_error` and `_complete` on it;
 * a source's teardown reaching it through `add`; `unsubscribe` setting `closed`.
 */
export abstract class LeanSubscriber<T> extends Subscriber<T> {
  private teardown: (() => void) | Unsubscribable | undefined;

  protected abstract receive(value: T): void;

  protected abstract fail(err: Error): void;

  protected abstract finish(): void;

  /** The subscription is over; a teardown that comes after it is run at once. */
  protected abstract released(): void;

  override add(teardown: TeardownLogic): void {
    // A Subscription keeps a link back to its parent: RxJS's own bookkeeping, left to RxJS.
    if (teardown && !(teardown instanceof Subscription) && !this.teardown && !this.closed) {
      this.teardown = teardown;
    } else {
      super.add(teardown);
    }
  }

  override unsubscribe(): void {
    if (this.closed) return;
    super.unsubscribe();
    const teardown = this.teardown;
    this.teardown = undefined;
    if (typeof teardown === 'function') teardown();
    else teardown?.unsubscribe();
    this.released();
  }

  protected override _next(value: T): void {
    this.receive(value);
  }

  protected override _error(err: Error): void {
    this.fail(err);
  }

  protected override _complete(): void {
    this.finish();
  }
}

/**
 * An Observable whose subscribing is a method, `subscribed`, so that what it takes is in the
 * fields of a subclass rather than in the closure of a subscribe function: Nest holds the
 * Observable an `@Sse()` handler returns for as long as the stream is open.
 *
 * Relies on: `subscribe` calling `_subscribe` on the Observable itself with the subscriber, and
 * adding what it returns to the subscriber as its teardown.
 */
export abstract class LeanObservable<T> extends Observable<T> {
  protected abstract subscribed(subscriber: Subscriber<T>): TeardownLogic;

  protected _subscribe(subscriber: Subscriber<T>): TeardownLogic {
    return this.subscribed(subscriber);
  }
}
