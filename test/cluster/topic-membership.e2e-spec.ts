import { clientChannel, shardOf, topicChannel } from '../../src/bus/channels.js';
import { formatVectorId, parseVectorId } from '../../src/bus/vector-id.js';
import { type RedisCluster, startRedisCluster } from '../support/redis-cluster.js';
import { type RawSseClient } from '../support/sse-client.js';
import type { SseEvent } from '../support/sse-parser.js';
import { type TestApp, startApp } from '../support/test-app.js';
import { broadcastMarker, given, streamOpener } from '../support/topic-streams.js';
import { waitFor } from '../support/wait-for.js';

const SHARDS = 8;
const PREFIX = 'cluster-topics';
const shardOfTopic = (topic: string) => shardOf(topicChannel(topic), SHARDS);
const shardOfClient = (clientId: string) => shardOf(clientChannel(clientId), SHARDS);

/** A topic name whose channel is on `shard`. */
function topicOn(shard: number, name: string): string {
  for (let i = 0; ; i++) if (shardOfTopic(`${name}${i}`) === shard) return `${name}${i}`;
}

/** Shards other than `taken`, in order. */
const shardsBut = (...taken: number[]) =>
  [...Array(SHARDS).keys()].filter((shard) => !taken.includes(shard));

/**
 * Joining and leaving topics at run time on a six-node Redis Cluster, with the topics on other
 * shards than their client's (and on its own): a topic's messages count for the client's streams
 * from the join's marker on the topic's shard to the leave's, in that shard's order.
 */
describe('topics joined and left at run time, on a Redis Cluster', () => {
  let cluster: RedisCluster;
  let a: TestApp;
  let b: TestApp;
  const clients: RawSseClient[] = [];
  const open = streamOpener(clients);
  const marker = (n: number, ...seen: RawSseClient[]) => broadcastMarker(b.bus, n, ...seen);
  /** What a stream was given on `topic`: the `n` of each. */
  const on = (client: RawSseClient, topic: string) =>
    client.events
      .filter((e) => e.data?.includes(`"on":"${topic}"`))
      .map((e) => (JSON.parse(e.data!) as { n: number }).n);
  const topicsEvents = (client: RawSseClient) =>
    client.events.filter((e) => e.event === 'topics').map((e) => e.data);

  beforeAll(async () => {
    cluster = await startRedisCluster();
    const options = { redisUrl: cluster.url, redisKeyPrefix: PREFIX, redisShards: SHARDS };
    [a, b] = await Promise.all([startApp(options), startApp(options)]);
  });
  afterEach(() => clients.splice(0).forEach((client) => client.close()));
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await cluster?.stop();
  });

  it("moves every open stream of the client, on every instance, and no one else's", async () => {
    const own = shardOfClient('alice');
    const [far] = shardsBut(own, 0).map((shard) => topicOn(shard, 'far'));
    const near = topicOn(own, 'near');
    const tabs = [open(a, 'alice'), open(a, 'alice'), open(b, 'alice')];
    const bob = open(b, 'bob', `topic=base&topic=${far}`);
    await Promise.all([...tabs, bob].map((client) => client.waitForEvents(1)));
    await a.bus.publish({ n: 0, on: far }, { topic: far });
    await a.bus.join('alice', [far, near]);
    await b.bus.publish({ n: 1, on: far }, { topic: far });
    await b.bus.publish({ n: 1, on: near }, { topic: near });
    await b.bus.leave('alice', far);
    await a.bus.publish({ n: 2, on: far }, { topic: far });
    await a.bus.publish({ n: 2, on: near }, { topic: near });
    await bob.waitForEvent((e) => e.data === JSON.stringify({ n: 2, on: far }), 'bob gets n 2');
    await Promise.all(
      tabs.map((tab) =>
        tab.waitForEvent((e) => e.data === JSON.stringify({ n: 2, on: near }), 'near n 2'),
      ),
    );
    await marker(1, ...tabs, bob);
    for (const tab of tabs) {
      expect(topicsEvents(tab)).toEqual([
        JSON.stringify({ topics: ['base', far, near] }),
        JSON.stringify({ topics: ['base', near] }),
      ]);
      expect(on(tab, far)).toEqual([1]);
      expect(on(tab, near)).toEqual([1, 2]);
      // Nothing of a joined topic before its change's `topics` event.
      const first = tab.events.findIndex((e) => e.event === 'topics');
      expect(tab.events.findIndex((e) => e.data?.includes('"on"'))).toBeGreaterThan(first);
    }
    expect(on(bob, far)).toEqual([0, 1, 2]);
    expect(topicsEvents(bob)).toEqual([]);
  });

  it('starts a later stream, on an instance with none of the client, with (asked ∪ joined) − left', async () => {
    const own = shardOfClient('carol');
    const [far, other] = shardsBut(own, 0).map((shard) => topicOn(shard, 'cfar'));
    await a.bus.changeTopics('carol', { join: [far], leave: ['base'] });
    const tab = open(b, 'carol', `topic=base&topic=${other}`);
    await tab.waitForEvents(1);
    for (const topic of ['base', far, other]) {
      await a.bus.publish({ n: 0, on: topic }, { topic });
    }
    await a.bus.join('carol', 'base');
    await a.bus.publish({ n: 1, on: 'base' }, { topic: 'base' });
    await tab.waitForEvent((e) => e.data === JSON.stringify({ n: 1, on: 'base' }), 'base n 1');
    await marker(2, tab);
    expect(on(tab, 'base')).toEqual([1]);
    expect(on(tab, far)).toEqual([0]);
    expect(on(tab, other)).toEqual([0]);
    expect(topicsEvents(tab)).toEqual([JSON.stringify({ topics: ['base', far, other].sort() })]);
  });

  it('resumes from before and after each change exactly as a stream that stayed', async () => {
    const own = shardOfClient('dave');
    const [far1, far2] = shardsBut(own, 0).map((shard) => topicOn(shard, 'dfar'));
    const near = topicOn(own, 'dnear');
    const stayed = open(a, 'dave');
    await stayed.waitForEvents(1);
    const steps: (() => Promise<unknown>)[] = [
      () => a.bus.publish({ n: 0, on: far1 }, { topic: far1 }),
      () => a.bus.join('dave', [far1, near]),
      () => b.bus.publish({ n: 1, on: far1 }, { topic: far1 }),
      () => b.bus.publish({ n: 2, on: 'base' }, { topic: 'base' }),
      () => a.bus.publish({ n: 3, on: near }, { topic: near }),
      () => b.bus.leave('dave', [far1, 'base']),
      () => a.bus.publish({ n: 4, on: far1 }, { topic: far1 }),
      () => a.bus.publish({ n: 5, on: 'dave' }, { clientId: 'dave' }),
      () => b.bus.join('dave', [far1, far2]),
      () => a.bus.publish({ n: 6, on: far1 }, { topic: far1 }),
      () => b.bus.publish({ n: 7, on: far2 }, { topic: far2 }),
      () => b.bus.publish({ n: 8, on: near }, { topic: near }),
    ];
    for (const step of steps) await step();
    const message = (n: number, topic: string) => `message ${JSON.stringify({ n, on: topic })}`;
    const topics = (...names: string[]) => `topics ${JSON.stringify({ topics: names.sort() })}`;
    const expected = [
      message(1, far1),
      message(2, 'base'),
      message(3, near),
      message(5, 'dave'),
      message(6, far1),
      message(7, far2),
      message(8, near),
      topics('base', far1, near),
      topics(near),
      topics(near, far1, far2),
      'message {"marker":3}',
    ];
    await waitFor(() => given(stayed).length >= expected.length - 1, 'the stream gets it all');
    await marker(3, stayed);
    expectSameDelivery(given(stayed), expected);
    // From every id the stream was given (the last event with each), on either instance: the rest.
    const events = stayed.events.filter((e) => e.id !== undefined && e.event !== 'connected');
    const ids = [stayed.events[0].id!, ...new Set(events.map((e) => e.id!))];
    for (const [i, id] of ids.entries()) {
      const from = lastIndexOf(stayed.events, id);
      const rest = stayed.events
        .slice(from + 1)
        .filter((e) => e.data !== undefined && e.event !== 'connected');
      const owed = rest.map((e) => `${e.event ?? 'message'} ${e.data}`);
      // The last id owes nothing, and has no marker after it to wait for.
      if (owed.length === 0) continue;
      const resumed = open(i % 2 ? a : b, 'dave', 'topic=base', { 'last-event-id': id });
      await resumed.waitForEvent((e) => e.data === '{"marker":3}', `the resume from ${i}`);
      await waitFor(() => given(resumed).length >= owed.length, `the resume from ${i}: all`);
      expectSameDelivery(given(resumed), owed);
      resumed.close();
    }
  });

  it("resumes a stream that read a leave and a join again before the leave's marker: off between the markers only", async () => {
    const own = shardOfClient('gina');
    const [far] = shardsBut(own, 0).map((shard) => topicOn(shard, 'gfar'));
    const shard = shardOfTopic(far);
    await a.bus.join('gina', far);
    const stayed = open(a, 'gina');
    await stayed.waitForEvents(1);
    const stood = await a.bus.publish({ n: 0, on: far }, { topic: far });
    await a.bus.publish({ n: 1, on: far }, { topic: far });
    await b.bus.leave('gina', far);
    await a.bus.publish({ n: 2, on: far }, { topic: far });
    await b.bus.join('gina', far);
    await a.bus.publish({ n: 3, on: far }, { topic: far });
    await marker(5, stayed);
    expect(on(stayed, far)).toEqual([0, 1, 3]);
    // Where a stream stood that read both changes on the client's shard, and on the topic's shard
    // only up to n 0: before the leave's marker (the order the shards' reads may take).
    const rejoined = stayed.events.filter((e) => e.event === 'topics').at(-1)!.id!;
    const { digest, positions } = parseVectorId(rejoined)!;
    positions.set(shard, parseVectorId(stood)!.positions.get(shard)!);
    const id = formatVectorId(digest, positions);
    const resumed = open(b, 'gina', 'topic=base', { 'last-event-id': id });
    await resumed.waitForEvent((e) => e.data === '{"marker":5}', 'the resume');
    expect(on(resumed, far)).toEqual([1, 3]);
    expect(topicsEvents(resumed)).toEqual([]);
  });

  it("resumes a join's catch-up from any of its events: the rest of the burst, once", async () => {
    const own = shardOfClient('hana');
    const shard = shardsBut(own, 0)[1];
    const far = topicOn(shard, 'hfar');
    const other = topicOn(shard, 'hother');
    const tab = open(a, 'hana', `topic=base&topic=${other}`);
    await tab.waitForEvents(1);
    await a.bus.join('hana', far);
    for (const n of [1, 2, 3]) await a.bus.publish({ n, on: far }, { topic: far });
    const stood = await a.bus.publish({ n: 0, on: other }, { topic: other });
    await marker(6, tab);
    // A stream that read the topic's shard (through `other`) past the joined topic's messages
    // before it read the join on its client's shard: they are late, a burst after the join.
    const { digest, positions } = parseVectorId(tab.events[0].id)!;
    positions.set(shard, parseVectorId(stood)!.positions.get(shard)!);
    const late = open(b, 'hana', `topic=base&topic=${other}`, {
      'last-event-id': formatVectorId(digest, positions),
    });
    await late.waitForEvent((e) => e.data === '{"marker":6}', 'the burst');
    expect(on(late, far)).toEqual([1, 2, 3]);
    expect(on(late, other)).toEqual([]);
    // Resumed from the join's `topics` event, and from each message of the burst: the rest.
    const burst = late.events.filter((e) => e.event === 'topics' || e.data?.includes(far));
    for (const [i, event] of burst.entries()) {
      const resumed = open(i % 2 ? a : b, 'hana', `topic=base&topic=${other}`, {
        'last-event-id': event.id!,
      });
      await resumed.waitForEvent((e) => e.data === '{"marker":6}', `the resume from ${i}`);
      expect(on(resumed, far)).toEqual([1, 2, 3].slice(i));
      expect(topicsEvents(resumed)).toEqual([]);
      resumed.close();
    }
  });

  it.each([
    ['on another shard', ['ivy', 'ida', 'ike', 'ilo', 'ina', 'ira'], 7],
    ["on the first's far topic's shard", ['jay', 'jim', 'joe', 'jon', 'jud', 'jen'], 8],
  ])(
    "resumes from any event of a join's catch-up that met a later join (its topic %s): the rest of both, once, in order",
    async (where, names, n) => {
      // A client whose own shard its first join's catch-up reads before the far topic's.
      const client = names.find((name) => {
        const own = shardOfClient(name);
        return own > 0 && own < SHARDS - 1;
      })!;
      const p = client[0];
      const own = shardOfClient(client);
      const xShard = shardsBut(own, 0).find((shard) => shard > own)!;
      const yShard = where === 'on another shard' ? shardsBut(own, 0, xShard)[0] : xShard;
      const [x, y] = [topicOn(xShard, `${p}x`), topicOn(yShard, `${p}y`)];
      const [ax, ay] = [topicOn(xShard, `${p}ax`), topicOn(yShard, `${p}ay`)];
      const near = topicOn(own, `${p}near`);
      const query = `topic=base&topic=${ax}&topic=${ay}`;
      const tab = open(a, client, query);
      await tab.waitForEvents(1);
      await a.bus.join(client, [x, near]);
      for (const n of [1, 2, 3]) await a.bus.publish({ n, on: x }, { topic: x });
      await a.bus.publish({ n: 1, on: near }, { topic: near });
      await b.bus.join(client, y);
      for (const n of [1, 2, 3]) await b.bus.publish({ n, on: y }, { topic: y });
      await a.bus.publish({ n: 2, on: near }, { topic: near });
      const stoodX = await a.bus.publish({ n: 0, on: ax }, { topic: ax });
      const stoodY = await b.bus.publish({ n: 0, on: ay }, { topic: ay });
      await a.bus.publish({ n: 4, on: x }, { topic: x });
      await marker(n, tab);
      const last = `message ${JSON.stringify({ marker: n })}`;
      // A stream that read both far shards past their joined topics' messages before it read the
      // first join: its catch-up reads the client's shard first, and meets the second join there.
      const { digest, positions } = parseVectorId(tab.events[0].id)!;
      positions.set(xShard, parseVectorId(stoodX)!.positions.get(xShard)!);
      positions.set(yShard, parseVectorId(stoodY)!.positions.get(yShard)!);
      const from = formatVectorId(digest, positions);
      const stayed = open(b, client, query, { 'last-event-id': from });
      await stayed.waitForEvent((e) => `message ${e.data}` === last, 'the bursts');
      const message = (n: number, topic: string) => `message ${JSON.stringify({ n, on: topic })}`;
      const topics = (...names: string[]) => `topics ${JSON.stringify({ topics: names.sort() })}`;
      expect(given(stayed)).toEqual([
        topics('base', ax, ay, x, near),
        message(1, near),
        topics('base', ax, ay, x, near, y),
        message(1, y),
        message(2, y),
        message(3, y),
        message(2, near),
        message(1, x),
        message(2, x),
        message(3, x),
        message(4, x),
        last,
      ]);
      // Given during the second join's burst, within the first's catch-up: ids that name both.
      for (const event of stayed.events.filter((e) => e.data?.includes(`"on":"${y}"`))) {
        expect(parseVectorId(event.id)!.changes).toHaveLength(2);
      }
      // From each event the stream was given, on either instance: the rest, in the same order.
      const events = stayed.events.filter((e) => e.id !== undefined && e.event !== 'connected');
      for (const [i, event] of events.entries()) {
        const owed = given(stayed).slice(i + 1);
        if (owed.length === 0) continue;
        const resumed = open(i % 2 ? a : b, client, query, { 'last-event-id': event.id! });
        await resumed.waitForEvent((e) => `message ${e.data}` === last, `the resume from ${i}`);
        expect([i, given(resumed)]).toEqual([i, owed]);
        resumed.close();
      }
    },
  );

  it('joins and leaves topics on the client shard alone, with no markers', async () => {
    const near = topicOn(shardOfClient('frank'), 'fnear');
    const tab = open(b, 'frank');
    await tab.waitForEvents(1);
    await a.bus.publish({ n: 0, on: near }, { topic: near });
    const id = await a.bus.join('frank', near);
    // The change alone: it names only the client's shard.
    expect(parseVectorId(id)!.positions.size).toBe(1);
    await a.bus.publish({ n: 1, on: near }, { topic: near });
    await a.bus.leave('frank', near);
    await a.bus.publish({ n: 2, on: near }, { topic: near });
    await marker(4, tab);
    expect(on(tab, near)).toEqual([1]);
    expect(topicsEvents(tab)).toEqual([
      JSON.stringify({ topics: ['base', near].sort() }),
      JSON.stringify({ topics: ['base'] }),
    ]);
  });

  it('listens to a topic channel on its shard only while one of its streams is on it', async () => {
    const own = shardOfClient('erin');
    const shard = shardsBut(own, 0)[2];
    const topic = topicOn(shard, 'efar');
    const channel = `{${PREFIX}:${shard}}${topicChannel(topic)}`;
    const first = cluster.nodes[0].connect();
    const slot = (await first.call('CLUSTER', 'KEYSLOT', channel)) as number;
    first.disconnect();
    const node = await cluster.ownerOf(slot);
    const subscribers = async () => {
      const redis = node.connect();
      try {
        const [, count] = (await redis.call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number];
        return count;
      } finally {
        redis.disconnect();
      }
    };
    const tabs = [open(a, 'erin'), open(a, 'erin')];
    await Promise.all(tabs.map((tab) => tab.waitForEvents(1)));
    expect(await subscribers()).toBe(0);
    await b.bus.join('erin', topic);
    await Promise.all(tabs.map((tab) => tab.waitForEvent((e) => e.event === 'topics', 'joined')));
    await waitFor(async () => (await subscribers()) === 1, 'A listens on the topic');
    await b.bus.publish({ n: 0, on: topic }, { topic });
    await Promise.all(
      tabs.map((tab) => tab.waitForEvent((e) => e.data?.includes(topic) ?? false, 'n 0')),
    );
    await b.bus.leave('erin', topic);
    await waitFor(async () => (await subscribers()) === 0, 'A no longer listens on the topic');
  });
});

/** Each line once, and in the same order within each of its kinds (`topics`, and per `on`). */
function expectSameDelivery(got: readonly string[], owed: readonly string[]): void {
  expect([...got].sort()).toEqual([...owed].sort());
  const kind = (line: string) => /"on":"([^"]+)"/.exec(line)?.[1] ?? line.split(' ')[0];
  for (const each of new Set(owed.map(kind))) {
    expect(got.filter((line) => kind(line) === each)).toEqual(
      owed.filter((line) => kind(line) === each),
    );
  }
}

function lastIndexOf(events: readonly SseEvent[], id: string): number {
  for (let i = events.length - 1; i >= 0; i--) if (events[i].id === id) return i;
  return -1;
}
