import { Observable, Subject, type Subscriber, type TeardownLogic, map } from 'rxjs';
import { LeanObservable, LeanSubscriber } from '../../src/sse/rxjs-subclasses.js';

/*
 * Pins what the subclasses rely on in RxJS and RxJS does not document (see rxjs-subclasses.ts):
 * a failure here is an RxJS that changed under them.
 */

/** Writes down what reaches it, and ends itself on an error or completion, as a stream does. */
class Recorder extends LeanSubscriber<number> {
  readonly log: string[] = [];

  protected receive(value: number): void {
    this.log.push(`receive ${value}`);
  }

  protected fail(err: Error): void {
    this.log.push(`fail ${err.message}`);
    this.unsubscribe();
  }

  protected finish(): void {
    this.log.push('finish');
    this.unsubscribe();
  }

  protected released(): void {
    this.log.push('released');
  }
}

/** RxJS's own array of teardowns, which LeanSubscriber spares its first. */
const finalizersOf = (subscription: object) =>
  (subscription as { _finalizers?: unknown[] | null })._finalizers ?? [];

describe('LeanSubscriber', () => {
  it('gets events in receive, then finish, and is released', () => {
    const recorder = new Recorder();
    const source = new Subject<number>();
    source.subscribe(recorder);
    source.next(1);
    source.next(2);
    source.complete();
    expect(recorder.log).toEqual(['receive 1', 'receive 2', 'finish', 'released']);
  });

  it('gets an error in fail, then nothing more, and runs the teardown and is released', () => {
    const recorder = new Recorder();
    let source: Subscriber<number> | undefined;
    new Observable<number>((subscriber) => {
      source = subscriber;
      return () => recorder.log.push('teardown');
    }).subscribe(recorder);
    source!.next(1);
    source!.error(new Error('gone'));
    source!.next(2);
    expect(recorder.log).toEqual(['receive 1', 'fail gone', 'teardown', 'released']);
    expect(recorder.closed).toBe(true);
  });

  it('runs a teardown that arrives once it has ended, as a source that fails at once gives it', () => {
    const recorder = new Recorder();
    new Observable<number>((subscriber) => {
      subscriber.error(new Error('refused'));
      return () => recorder.log.push('teardown');
    }).subscribe(recorder);
    expect(recorder.log).toHaveLength(3);
    expect(recorder.log).toEqual(expect.arrayContaining(['fail refused', 'teardown', 'released']));
  });

  it('is subscribed as it is: the source is given the very same object', () => {
    const recorder = new Recorder();
    let given: Subscriber<number> | undefined;
    new Observable<number>((subscriber) => {
      given = subscriber;
    }).subscribe(recorder);
    expect(given).toBe(recorder);
  });

  it("keeps the source's teardown in its field, runs it once and is released once", () => {
    const recorder = new Recorder();
    new Observable<number>(() => () => recorder.log.push('teardown')).subscribe(recorder);
    expect(finalizersOf(recorder)).toHaveLength(0);
    recorder.add(() => recorder.log.push('second'));
    expect(finalizersOf(recorder)).toHaveLength(1);
    expect(recorder.log).toEqual([]);

    recorder.unsubscribe();
    expect(recorder.closed).toBe(true);
    recorder.unsubscribe();
    expect(recorder.log).toEqual(['second', 'teardown', 'released']);
  });

  it("leaves a source's Subscription to RxJS, which ends it on unsubscribe", () => {
    const recorder = new Recorder();
    const source = new Subject<number>();
    source.subscribe(recorder);
    expect(source.observed).toBe(true);
    recorder.unsubscribe();
    expect(source.observed).toBe(false);
    expect(recorder.log).toEqual(['released']);
  });
});

/** Gives each subscriber its `first`, and writes down when a subscription ends. */
class Counter extends LeanObservable<number> {
  readonly log: string[] = [];

  constructor(private readonly first: number) {
    super();
  }

  protected subscribed(subscriber: Subscriber<number>): TeardownLogic {
    subscriber.next(this.first);
    return () => this.log.push('teardown');
  }
}

describe('LeanObservable', () => {
  it('subscribes through its method, on itself, and runs what that returns on unsubscribe', () => {
    const counter = new Counter(7);
    const values: number[] = [];
    const subscription = counter.subscribe((value) => values.push(value));
    expect(values).toEqual([7]);
    expect(counter.log).toEqual([]);
    subscription.unsubscribe();
    expect(counter.log).toEqual(['teardown']);
  });

  it('hands a LeanSubscriber its teardown to keep in its field', () => {
    const counter = new Counter(7);
    const recorder = new Recorder();
    counter.subscribe(recorder);
    expect(finalizersOf(recorder)).toHaveLength(0);
    recorder.unsubscribe();
    expect(recorder.log).toEqual(['receive 7', 'released']);
    expect(counter.log).toEqual(['teardown']);
  });

  it('works behind an operator, as Nest pipes it', () => {
    const counter = new Counter(7);
    const values: number[] = [];
    const subscription = counter.pipe(map((value) => value * 10)).subscribe((value) => {
      values.push(value);
    });
    expect(values).toEqual([70]);
    subscription.unsubscribe();
    expect(counter.log).toEqual(['teardown']);
  });
});
