import { Subject } from 'rxjs';
import type { BusEvent, BusMessage } from '../../src/index.js';
import { ClientRouter } from '../../src/bus/client-router.js';

const message = (to: string[] | null, n = 0): BusMessage => ({
  kind: 'message',
  id: `e.${n}-0`,
  position: { ms: n, seq: 0 },
  to,
  event: undefined,
  data: String(n),
});

describe('ClientRouter', () => {
  it('gives each client broadcasts and its own messages, in order', () => {
    const source = new Subject<BusEvent>();
    const router = new ClientRouter(source);
    const got: Record<string, number[]> = { a1: [], a2: [], b: [] };
    router.forClient('a').subscribe((event) => got.a1.push(event.position.ms));
    router.forClient('a').subscribe((event) => got.a2.push(event.position.ms));
    router.forClient('b').subscribe((event) => got.b.push(event.position.ms));
    source.next(message(null, 1));
    source.next(message(['a'], 2));
    source.next(message(['b', 'c'], 3));
    source.next({ kind: 'reset', id: 'e.4-0', position: { ms: 4, seq: 0 }, reason: 'lost' });
    expect(got).toEqual({ a1: [1, 2, 4], a2: [1, 2, 4], b: [1, 3, 4] });
  });

  it('touches only the addressee: no call per connected client for a targeted message', () => {
    const source = new Subject<BusEvent>();
    const router = new ClientRouter(source);
    let calls = 0;
    for (let n = 0; n < 10_000; n++) router.forClient(`c${n}`).subscribe(() => calls++);
    source.next(message(['c42']));
    expect(calls).toBe(1);
  });

  it('subscribes to its source while anyone listens, and releases it with the last one', () => {
    const source = new Subject<BusEvent>();
    const router = new ClientRouter(source);
    const one = router.forClient('a').subscribe();
    const two = router.forClient('a').subscribe();
    expect(source.observed).toBe(true);
    expect(router.size).toBe(2);
    one.unsubscribe();
    two.unsubscribe();
    expect(router.size).toBe(0);
    expect(source.observed).toBe(false);
  });
});
