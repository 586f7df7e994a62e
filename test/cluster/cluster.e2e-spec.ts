import { setTimeout as sleep } from 'node:timers/promises';
import { parseVectorId } from '../../src/bus/vector-id.js';
import { Presence } from '../../src/index.js';
import { type RedisCluster, startRedisCluster } from '../support/redis-cluster.js';
import { RawSseClient } from '../support/sse-client.js';
import { type TestApp, startApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

const ID = /^[A-Za-z0-9._-]{1,128}$/;

describe('on a Redis Cluster', () => {
  let cluster: RedisCluster;
  let a: TestApp;
  let b: TestApp;
  const clients: RawSseClient[] = [];
  const open = (url: string, headers: Record<string, string> = {}) => {
    const client = new RawSseClient(url, headers);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    cluster = await startRedisCluster();
    const options = { redisUrl: cluster.url, redisKeyPrefix: 'cluster-basic', presenceTtlMs: 300 };
    [a, b] = await Promise.all([startApp(options), startApp(options)]);
  });
  afterEach(() => clients.splice(0).forEach((client) => client.close()));
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await cluster?.stop();
  });

  it('delivers broadcasts, client messages and topics across instances, once each', async () => {
    const alice = open(`${a.url}/orders/events?topic=news`, { 'x-user': 'alice' });
    const bob = open(`${b.url}/orders/events?topic=sport`, { 'x-user': 'bob' });
    await Promise.all([alice.waitForEvents(1), bob.waitForEvents(1)]);
    for (let n = 0; n < 20; n++) {
      await b.bus.publish({ n, to: 'all' });
      await b.bus.publish({ n, to: 'alice' }, { clientId: 'alice' });
      await a.bus.publish({ n, to: 'news' }, { topic: 'news' });
      await a.bus.publish({ n, to: 'both' }, { topic: ['news', 'sport'] });
      await a.bus.publish({ n, to: 'pair' }, { clientId: ['alice', 'bob'] });
    }
    await waitFor(() => alice.messages.length >= 100, 'alice gets 100');
    await waitFor(() => bob.messages.length >= 60, 'bob gets 60');
    const tally = (client: RawSseClient, to: string) =>
      client.messages
        .filter((m) => (m as { to: string }).to === to)
        .map((m) => (m as { n: number }).n);
    const all = [...Array(20).keys()];
    for (const to of ['all', 'alice', 'news', 'both', 'pair']) {
      expect(tally(alice, to)).toEqual(all);
    }
    for (const to of ['all', 'both', 'pair']) expect(tally(bob, to)).toEqual(all);
    expect(tally(bob, 'alice')).toEqual([]);
    expect(tally(bob, 'news')).toEqual([]);
    for (const event of alice.events) if (event.id !== undefined) expect(event.id).toMatch(ID);
  });

  it('resumes on another instance from the id it was given: what was missed, once, in order', async () => {
    const first = open(`${a.url}/orders/events?topic=news`, { 'x-user': 'carol' });
    await first.waitForEvents(1);
    await b.bus.publish({ n: 0 }, { clientId: 'carol' });
    await b.bus.publish({ n: 1 });
    await first.waitForEvents(3);
    const lastId = first.lastId!;
    first.close();
    for (let n = 2; n < 12; n++) {
      await a.bus.publish({ n }, n % 2 ? { clientId: 'carol' } : n % 3 ? {} : { topic: 'news' });
    }
    const again = open(`${b.url}/orders/events?topic=news`, {
      'x-user': 'carol',
      'last-event-id': lastId,
    });
    await again.waitForEvents(11);
    await a.bus.publish({ n: 12 }, { clientId: 'carol' });
    await again.waitForEvents(12);
    const ns = again.messages.map((m) => (m as { n: number }).n);
    expect([...ns].sort((x, y) => x - y)).toEqual([...Array(11).keys()].map((n) => n + 2));
    // Per client, in order: its own messages, and the broadcasts.
    const own = ns.filter((n) => n % 2 === 1 || n === 12);
    expect(own).toEqual([...own].sort((x, y) => x - y));
  });

  it('starts a stream from a publish id: what came since on every shard, once, in order', async () => {
    const id = await a.bus.publish({ n: 0 }, { clientId: 'frank' });
    await b.bus.publish({ n: 1 });
    await a.bus.publish({ n: 2 }, { topic: 'news' });
    await b.bus.publish({ n: 3 });
    const stream = open(`${b.url}/orders/events?topic=news`, {
      'x-user': 'frank',
      'last-event-id': id,
    });
    await stream.waitForEvents(1);
    await a.bus.publish({ n: 4 }, { clientId: 'frank' });
    await stream.waitForEvent((event) => event.data === '{"n":4}', 'n 4');
    expect(stream.events.filter((event) => event.event === 'reset')).toEqual([]);
    const ns = stream.messages.map((m) => (m as { n: number }).n);
    expect([...ns].sort()).toEqual([1, 2, 3, 4]);
    expect(ns.filter((n) => n % 2 === 1)).toEqual([1, 3]);
  });

  it('replays the shards interleaved by entry time, as a live stream would have seen them', async () => {
    // xena's channel is on shard 6, the broadcasts on shard 0.
    const first = open(`${a.url}/orders/events`, { 'x-user': 'xena' });
    await first.waitForEvents(1);
    const lastId = first.lastId!;
    first.close();
    for (let n = 0; n < 6; n++) {
      const id = await a.bus.publish({ n }, n % 2 ? { clientId: 'xena' } : {});
      // The next entry's time is later on any shard: publish order is entry time order.
      const [written] = parseVectorId(id)!.positions.values();
      while (Date.now() <= written.ms) await sleep(1);
    }
    const again = open(`${b.url}/orders/events`, { 'x-user': 'xena', 'last-event-id': lastId });
    await waitFor(() => again.messages.length >= 6, 'xena gets 6');
    expect(again.messages.map((m) => (m as { n: number }).n)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('reads only the channels of its own streams', async () => {
    const seenOnB: string[] = [];
    const subscription = b.bus.events$.subscribe((event) => {
      if (event.kind === 'message') seenOnB.push(event.data);
    });
    const dave = open(`${a.url}/orders/events`, { 'x-user': 'dave' });
    await dave.waitForEvents(1);
    for (let n = 0; n < 10; n++) await b.bus.publish({ n, dave: true }, { clientId: 'dave' });
    await b.bus.publish({ marker: true });
    await waitFor(() => dave.messages.length >= 11, 'dave gets his messages');
    await waitFor(() => seenOnB.includes('{"marker":true}'), 'B reads the broadcast');
    subscription.unsubscribe();
    expect(seenOnB.filter((data) => data.includes('dave'))).toEqual([]);
  });

  it('counts presence across instances', async () => {
    const erin = open(`${a.url}/orders/events?topic=news`, { 'x-user': 'erin' });
    await erin.waitForEvents(1);
    const presence = b.app.get(Presence);
    await waitFor(async () => await presence.isOnline('erin'), 'erin online, seen from B');
    expect(await presence.clientsOn('news')).toContain('erin');
    erin.close();
    await waitFor(async () => !(await presence.isOnline('erin')), 'erin offline, seen from B');
  });
});
