import { Logger } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import { clientChannel, shardOf, topicChannel } from '../../src/bus/channels.js';
import { toTopicChangeMessage } from '../../src/bus/message-validation.js';
import {
  LOCK_SCRIPTS,
  type LockScripts,
  changeLockKey,
} from '../../src/bus/transports/client-change-lock.js';
import { RedisLog } from '../../src/bus/transports/redis-log.js';
import { LOG_SCRIPTS, type LogScripts } from '../../src/bus/transports/redis-log.scripts.js';
import { BusUnavailableError, TooManyTopicsError } from '../../src/index.js';
import { openRedis } from '../../src/redis/redis-connection.js';
import { RedisWatchdog } from '../../src/redis/redis-watchdog.js';
import { type RedisCluster, startRedisCluster } from '../support/redis-cluster.js';
import type { RawSseClient } from '../support/sse-client.js';
import { type TestApp, startApp } from '../support/test-app.js';
import { streamOpener } from '../support/topic-streams.js';

const SHARDS = 8;
const PREFIX = 'cluster-race';
const MAX_TOPICS = 2;
const ROUNDS = 40;
const shardOfTopic = (topic: string) => shardOf(topicChannel(topic), SHARDS);
const shardOfClient = (clientId: string) => shardOf(clientChannel(clientId), SHARDS);

/** The first name `name<i>` whose shard `on` gives is `shard`. */
function nameOn(shard: number, name: string, on = shardOfTopic): string {
  for (let i = 0; ; i++) if (on(`${name}${i}`) === shard) return `${name}${i}`;
}

/**
 * Changes of the same client's topics written at once from two instances of a Redis Cluster
 * bus, with the topics on another shard than the client's: the streams open then and the streams
 * opened after must agree on the topics they leave the client on, and a change refused past the
 * client's limit must move no stream.
 */
describe("changes of a client's topics racing from two instances, on a Redis Cluster", () => {
  let cluster: RedisCluster;
  let a: TestApp;
  let b: TestApp;
  /** Gives up on a change after 300 ms. */
  let quick: TestApp;
  let redis: Cluster & LogScripts & LockScripts;
  const clients: RawSseClient[] = [];
  const open = streamOpener(clients);
  // The far topics and the sync topic share a shard: a message on the sync topic comes after
  // what was published on the far ones before it.
  const FAR_SHARD = 5;
  const far = (name: string) => nameOn(FAR_SHARD, name);
  const sync = far('sync');
  const clientOff = (name: string) =>
    nameOn(
      [...Array(SHARDS).keys()].find((shard) => shard !== FAR_SHARD && shard !== 0)!,
      name,
      shardOfClient,
    );

  beforeAll(async () => {
    cluster = await startRedisCluster();
    const options = {
      redisUrl: cluster.url,
      redisKeyPrefix: PREFIX,
      redisShards: SHARDS,
      maxTopicsPerClient: MAX_TOPICS,
    };
    [a, b, quick] = await Promise.all([
      startApp(options),
      startApp(options),
      startApp({ ...options, publishTimeoutMs: 300 }),
    ]);
    redis = openRedis(cluster.url, 'test', new Logger('test'), {
      ...LOG_SCRIPTS,
      ...LOCK_SCRIPTS,
    }) as typeof redis;
    await redis.connect();
  });
  afterEach(() => clients.splice(0).forEach((client) => client.close()));
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close(), quick?.close()]);
    redis?.disconnect();
    await cluster?.stop();
  });

  /**
   * Publishes `{ round }` on each of `topics`, then on the sync topic and to `clientId`, and waits
   * for each of `streams` to get both of the last two: by then each has been given, or not, what
   * was published on `topics`, and has read every change of its client written before.
   */
  async function publishAndSettle(
    clientId: string,
    round: number,
    topics: readonly string[],
    streams: readonly RawSseClient[],
  ): Promise<void> {
    for (const topic of topics) await a.bus.publish({ round, on: topic }, { topic });
    await a.bus.publish({ round, on: sync }, { topic: sync });
    await a.bus.publish({ round, on: clientId }, { clientId });
    const got = (stream: RawSseClient, on: string) =>
      stream.waitForEvent((e) => e.data === JSON.stringify({ round, on }), `round ${round} ${on}`);
    await Promise.all(streams.flatMap((stream) => [got(stream, sync), got(stream, clientId)]));
  }

  const gets = (stream: RawSseClient, round: number, topic: string) =>
    stream.events.some((e) => e.data === JSON.stringify({ round, on: topic }));
  const hashTagOf = (clientId: string) => `{${PREFIX}:${shardOfClient(clientId)}}`;
  const lockOf = (clientId: string) => changeLockKey(hashTagOf(clientId), clientId);
  const membershipOf = (clientId: string) => redis.hget(`${hashTagOf(clientId)}:members`, clientId);
  const logLength = (clientId: string) => redis.xlen(`${hashTagOf(clientId)}:log`);
  const lastTopics = (stream: RawSseClient) =>
    stream.events.filter((e) => e.event === 'topics').at(-1)?.data;

  it('ends the open streams and a new stream on the same topics, whichever change is written first', async () => {
    const clientId = clientOff('xena');
    const topic = far('t');
    const query = `topic=base&topic=${sync}`;
    const stayed = [open(a, clientId, query), open(b, clientId, query)];
    await Promise.all(stayed.map((stream) => stream.waitForEvents(1)));
    const outcomes: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Issued in the same tick, from the two instances; the order alternates.
      const changes = [() => a.bus.join(clientId, topic), () => b.bus.leave(clientId, topic)];
      if (round % 2) changes.reverse();
      await Promise.all(changes.map((change) => change()));
      const fresh = open(round % 2 ? a : b, clientId, query);
      await fresh.waitForEvents(1);
      await publishAndSettle(clientId, round, [topic], [...stayed, fresh]);
      const on = gets(fresh, round, topic);
      outcomes.push(on ? 'on' : 'off');
      for (const stream of stayed) {
        expect({ round, on: gets(stream, round, topic) }).toEqual({ round, on });
        expect(lastTopics(stream)?.includes(`"${topic}"`)).toBe(on);
      }
      fresh.close();
    }
    // Both orders were written: the race was run, not one order over and over.
    expect(new Set(outcomes)).toEqual(new Set(['on', 'off']));
  });

  it("refuses exactly one of two joins racing past the limit, and no stream acts on the refused one's markers", async () => {
    const kept = far('k');
    const left = far('l');
    const [first, second] = [far('u'), far('v')];
    const outcomes: string[] = [];
    for (let round = 0; round < ROUNDS / 2; round++) {
      const clientId = clientOff(`yara${round}-`);
      await a.bus.join(clientId, kept);
      const query = `topic=base&topic=${sync}&topic=${left}`;
      const stayed = [open(a, clientId, query), open(b, clientId, query)];
      await Promise.all(stayed.map((stream) => stream.waitForEvents(1)));
      // Either alone fits the limit (the kept topic and one more); both do not. The first also
      // leaves a topic its streams asked for: at its marker, were its markers acted on.
      const changes = [
        () => a.bus.changeTopics(clientId, { join: [first], leave: [left] }),
        () => b.bus.join(clientId, second),
      ];
      if (round % 2) changes.reverse();
      const settled = await Promise.allSettled(changes.map((change) => change()));
      if (round % 2) settled.reverse();
      const refused = settled.filter((each) => each.status === 'rejected');
      expect(refused).toHaveLength(1);
      expect((refused[0] as PromiseRejectedResult).reason).toBeInstanceOf(TooManyTopicsError);
      const firstWent = settled[0].status === 'fulfilled';
      outcomes.push(firstWent ? 'first' : 'second');
      const fresh = open(round % 2 ? a : b, clientId, query);
      await fresh.waitForEvents(1);
      const topics = [left, first, second];
      await publishAndSettle(clientId, round, topics, [...stayed, fresh]);
      const expected = { [left]: !firstWent, [first]: firstWent, [second]: !firstWent };
      for (const stream of [...stayed, fresh]) {
        const got = Object.fromEntries(topics.map((topic) => [topic, gets(stream, round, topic)]));
        expect({ round, got }).toEqual({ round, got: expected });
      }
      clients.splice(0).forEach((client) => client.close());
    }
    expect(new Set(outcomes)).toEqual(new Set(['first', 'second']));
  });

  it('writes the changes of one client made on one instance at once in the order they were made', async () => {
    const clientId = clientOff('vera');
    const topic = far('w');
    const stream = open(b, clientId, `topic=base&topic=${sync}`);
    await stream.waitForEvents(1);
    const changes = Array.from({ length: 9 }, (_, i) =>
      i % 2 ? a.bus.leave(clientId, topic) : a.bus.join(clientId, topic),
    );
    await Promise.all(changes);
    await publishAndSettle(clientId, 0, [topic], [stream]);
    expect(gets(stream, 0, topic)).toBe(true);
    const on = JSON.stringify({ topics: ['base', sync, topic].sort() });
    const off = JSON.stringify({ topics: ['base', sync].sort() });
    expect(stream.events.filter((e) => e.event === 'topics').map((e) => e.data)).toEqual(
      changes.map((_, i) => (i % 2 ? off : on)),
    );
  });

  it("waits while another change holds its client's lock, and fails past its own deadline having written nothing", async () => {
    const clientId = clientOff('zoe');
    const topic = far('z');
    const stream = open(a, clientId, `topic=base&topic=${sync}`);
    await stream.waitForEvents(1);
    const farLog = `{${PREFIX}:${FAR_SHARD}}:log`;
    const farLength = await redis.xlen(farLog);
    await redis.set(lockOf(clientId), 'another', 'PX', 60_000);
    await expect(quick.bus.join(clientId, topic)).rejects.toBeInstanceOf(BusUnavailableError);
    // Refused before its check of the limit: no marker, no change.
    expect(await redis.xlen(farLog)).toBe(farLength);
    expect(await membershipOf(clientId)).toBeNull();
    await redis.del(lockOf(clientId));
    await quick.bus.join(clientId, topic);
    // A holder that is gone: its lock expires, within the waiting change's deadline.
    await redis.set(lockOf(clientId), 'gone', 'PX', 200);
    await a.bus.leave(clientId, topic);
    await publishAndSettle(clientId, 0, [topic], [stream]);
    expect(gets(stream, 0, topic)).toBe(false);
    expect(stream.events.filter((e) => e.event === 'topics').map((e) => e.data)).toEqual([
      JSON.stringify({ topics: ['base', sync, topic].sort() }),
      JSON.stringify({ topics: ['base', sync].sort() }),
    ]);
  });

  it('refuses a change whose lock is no longer its own (a holder stalled past it), and lets its own go', async () => {
    const clientId = clientOff('ursa');
    const log = new RedisLog({
      writer: { redis, commands: new RedisWatchdog(redis, 3000) },
      hashTag: hashTagOf(clientId),
      maxLength: 10_000,
      idempotency: { windowMs: 60_000, maxKeys: 1000 },
      membershipTtlMs: 60_000,
      shard: shardOfClient(clientId),
      waitReplicas: 0,
      commandTimeoutMs: 3000,
    });
    const write = (lock: string) => ({
      message: toTopicChangeMessage(clientId, { join: ['near'] }, MAX_TOPICS),
      channels: [clientChannel(clientId)],
      spread: '',
      lock,
    });
    const length = await logLength(clientId);
    await expect(log.append(write('stalled'), 3000)).rejects.toBeInstanceOf(BusUnavailableError);
    await redis.set(lockOf(clientId), 'another', 'PX', 60_000);
    await expect(log.append(write('stalled'), 3000)).rejects.toBeInstanceOf(BusUnavailableError);
    expect(await logLength(clientId)).toBe(length);
    expect(await membershipOf(clientId)).toBeNull();
    expect(await redis.get(lockOf(clientId))).toBe('another');
    await log.append(write('another'), 3000);
    expect(await logLength(clientId)).toBe(length + 1);
    expect(JSON.parse((await membershipOf(clientId))!)).toMatchObject({ joined: ['near'] });
    expect(await redis.get(lockOf(clientId))).toBeNull();
  });
});
