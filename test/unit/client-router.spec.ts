import { Subject } from 'rxjs';
import type { BusEvent, BusMessage } from '../../src/index.js';
import { ClientRouter } from '../../src/bus/client-router.js';
import { BusCounters } from '../../src/bus/bus-counters.js';

const message = (to: string[] | null, n = 0, topics: string[] | null = null): BusMessage => ({
  kind: 'message',
  id: `e.${n}-0`,
  position: { ms: n, seq: 0 },
  to,
  topics,
  event: undefined,
  data: String(n),
});

const audience = (clientId: string, topics?: string[]) => ({
  clientId,
  topics: topics ? new Set(topics) : null,
});

describe('ClientRouter', () => {
  it('gives each client broadcasts and its own messages, in order, and counts them', () => {
    const source = new Subject<BusEvent>();
    const metrics = new BusCounters();
    const router = new ClientRouter(source, metrics);
    const got: Record<string, number[]> = { a1: [], a2: [], b: [] };
    router.view(audience('a')).subscribe((event) => got.a1.push(event.position.ms));
    router.view(audience('a')).subscribe((event) => got.a2.push(event.position.ms));
    router.view(audience('b')).subscribe((event) => got.b.push(event.position.ms));
    source.next(message(null, 1));
    source.next(message(['a'], 2));
    source.next(message(['b', 'c'], 3));
    source.next({ kind: 'reset', id: 'e.4-0', position: { ms: 4, seq: 0 }, reason: 'lost' });
    expect(got).toEqual({ a1: [1, 2, 4], a2: [1, 2, 4], b: [1, 3, 4] });
    expect(metrics.framesDelivered).toBe(9);
    expect(metrics.resets).toMatchObject({ lost: 3 });
  });

  it('gives a topic message to the streams on that topic only, once, and with client ids to theirs only', () => {
    const source = new Subject<BusEvent>();
    const metrics = new BusCounters();
    const router = new ClientRouter(source, metrics);
    const got: Record<string, number[]> = { plain: [], news: [], both: [], sport: [], aNews: [] };
    const on = (name: string, clientId: string, topics?: string[]) =>
      router.view(audience(clientId, topics)).subscribe((e) => got[name].push(e.position.ms));
    on('plain', 'p');
    on('news', 'n', ['news']);
    on('both', 'b', ['news', 'sport']);
    on('sport', 's', ['sport']);
    on('aNews', 'a', ['news']);
    source.next(message(null, 1, ['news']));
    source.next(message(null, 2, ['news', 'sport']));
    source.next(message(['a', 'p', 's'], 3, ['news']));
    source.next(message(['a', 'p'], 4));
    source.next(message(null, 5));
    expect(got).toEqual({
      plain: [4, 5],
      news: [1, 2, 5],
      both: [1, 2, 5],
      sport: [2, 5],
      aNews: [1, 2, 3, 4, 5],
    });
    expect(metrics.framesDelivered).toBe(15);
  });

  it('touches only the addressee: no call per connected client for a targeted message', () => {
    const source = new Subject<BusEvent>();
    const router = new ClientRouter(source, new BusCounters());
    let calls = 0;
    for (let n = 0; n < 10_000; n++) router.view(audience(`c${n}`)).subscribe(() => calls++);
    source.next(message(['c42']));
    expect(calls).toBe(1);
  });

  it('touches only the subscribers of a topic: no call to 10,000 streams on other topics', () => {
    const source = new Subject<BusEvent>();
    const router = new ClientRouter(source, new BusCounters());
    let others = 0;
    let mine = 0;
    for (let n = 0; n < 10_000; n++) {
      router.view(audience(`c${n}`, [`topic-${n % 100}`])).subscribe(() => others++);
    }
    router.view(audience('me', ['mine'])).subscribe(() => mine++);
    source.next(message(null, 1, ['mine']));
    source.next(message(['c1', 'me'], 2, ['mine']));
    expect({ mine, others }).toEqual({ mine: 2, others: 0 });
  });

  it('subscribes to its source while anyone listens, and releases it with the last one', () => {
    const source = new Subject<BusEvent>();
    const router = new ClientRouter(source, new BusCounters());
    const one = router.view(audience('a', ['t'])).subscribe();
    const two = router.view(audience('a')).subscribe();
    expect(source.observed).toBe(true);
    expect([router.size, router.clients, router.streamsOf('a')]).toEqual([2, 1, 2]);
    expect(router.clientsOn('t', 10)).toEqual(['a']);
    one.unsubscribe();
    two.unsubscribe();
    expect([router.size, router.clients, router.streamsOf('a')]).toEqual([0, 0, 0]);
    expect(router.clientsOn('t', 10)).toEqual([]);
    expect(source.observed).toBe(false);
  });

  it('routes to each stream of a client as they come and go', () => {
    const source = new Subject<BusEvent>();
    const router = new ClientRouter(source, new BusCounters());
    const got: number[][] = [[], [], []];
    const streams = got.map((list) =>
      router.view(audience('a', ['t'])).subscribe((event) => list.push(event.position.ms)),
    );
    source.next(message(['a'], 1));
    streams[1].unsubscribe();
    source.next(message(null, 2, ['t']));
    streams[0].unsubscribe();
    expect(router.streamsOf('a')).toBe(1);
    source.next(message(['a'], 3));
    expect(router.clientsOn('t', 10)).toEqual(['a']);
    streams[2].unsubscribe();
    source.next(message(['a'], 4));
    expect(got).toEqual([[1, 2], [1], [1, 2, 3]]);
    expect([router.size, router.clients, router.streamsOf('a')]).toEqual([0, 0, 0]);
  });
});
