import { BusUnavailableError } from '../../src/index.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import type { RawSseClient } from '../support/sse-client.js';
import { type TestApp, startApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';
import { EVENT_ID, connected, epochOf, framesOf, openStream, received } from './support/clients.js';
import {
  HEARTBEAT_MS,
  LONG_PUBLISH_TIMEOUT_MS,
  SHORT_PUBLISH_TIMEOUT_MS,
  WAIT_MS,
} from './support/fault-config.js';
import { Ledger, type Publish, total, CLEAN } from './support/ledger.js';
import { RedisProxy } from './support/redis-proxy.js';
import { JWT_SECRET } from './support/tokens.js';

const PUBLISH_TOKEN = 'faults-publish-token';
const SUBS = ['ann', 'ben', 'cat', 'dan'];
/** Every third message for one or two of the clients, the rest broadcast. */
const target = (i: number) => (i % 3 ? undefined : [SUBS[i % 4], ...(i % 2 ? [] : ['nobody'])]);

/**
 * Two instances on one Redis: A gives up on a publish quickly, B waits long enough to outlive
 * the outage. Two clients on each.
 */
function twoInstances(persistent: boolean, prefix: string) {
  const setup = {} as {
    redis: RedisServer;
    a: TestApp;
    b: TestApp;
    clients: RawSseClient[];
    since: string[];
    onA: Publish;
    onB: Publish;
  };
  beforeAll(async () => {
    setup.redis = await startRedis({ persistent });
    const options = {
      redisUrl: setup.redis.url,
      redisKeyPrefix: prefix,
      jwtSecret: JWT_SECRET,
      heartbeatMs: HEARTBEAT_MS,
      publishToken: PUBLISH_TOKEN,
    };
    setup.a = await startApp({ ...options, publishTimeoutMs: SHORT_PUBLISH_TIMEOUT_MS });
    setup.b = await startApp({ ...options, publishTimeoutMs: LONG_PUBLISH_TIMEOUT_MS });
    setup.onA = (data, opts) => setup.a.bus.publish(data, opts);
    setup.onB = (data, opts) => setup.b.bus.publish(data, opts);
    setup.clients = await Promise.all(
      SUBS.map((sub, i) => openStream(i < 2 ? setup.a.url : setup.b.url, sub)),
    );
    setup.since = (await Promise.all(setup.clients.map(connected))).map((event) => event.id!);
  });
  afterAll(async () => {
    setup.clients?.forEach((client) => client.close());
    await Promise.all([setup.a?.close(), setup.b?.close()]);
    await setup.redis?.stop();
  });
  return setup;
}

const reading = (...apps: TestApp[]) => apps.every((app) => app.bus.health().reading);
const deaf = (...apps: TestApp[]) => apps.every((app) => !app.bus.health().reading);

describe('Redis killed and restarted with its data (AOF, fsync always)', () => {
  const setup = twoInstances(true, 'faults-outage');

  it('keeps streams open and beating, fails what cannot wait, and delivers every acknowledged message once', async () => {
    const { redis, a, b, clients, since, onA, onB } = setup;
    const ledger = new Ledger('outage');
    for (let i = 0; i < 20; i++) await ledger.publish(i % 2 ? onA : onB, target(i));

    // In flight when Redis dies: written to a frozen Redis, which dies without reading them.
    redis.signal('SIGSTOP');
    const inFlight = [0, 1, 2].map((i) => ledger.publish(onB, target(i)));
    await new Promise((resolve) => setImmediate(resolve));
    redis.signal('SIGKILL');
    await waitFor(() => deaf(a, b), 'both instances to notice they cannot read', WAIT_MS);

    const beats = clients.map((client) => client.comments);
    // A's publishTimeoutMs is shorter than the outage: its publish gives up.
    const givenUp = await ledger.publish(onA, ['ann']);
    expect(givenUp.error).toBeInstanceOf(BusUnavailableError);
    const response = await fetch(`${a.url}/sse/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${PUBLISH_TOKEN}` },
      body: JSON.stringify({ data: 'during the outage' }),
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    // B's is longer: its publishes wait for Redis.
    const waiting = [3, 4, 5, 6].map((i) => ledger.publish(onB, target(i)));
    await waitFor(
      () => clients.every((client, i) => client.comments >= beats[i] + 3),
      'heartbeats while Redis is down',
      WAIT_MS,
    );
    expect(clients.map((client) => client.ended)).toEqual(clients.map(() => false));
    expect(ledger.pending).toHaveLength(inFlight.length + waiting.length);

    await redis.restart();
    await Promise.all([...inFlight, ...waiting]);
    expect(ledger.sent.filter((m) => m.status !== 'acknowledged').map((m) => m.n)).toEqual([
      givenUp.n,
    ]);
    await waitFor(() => reading(a, b), 'both instances to read again', WAIT_MS);
    for (let i = 0; i < 20; i++) await ledger.publish(i % 2 ? onA : onB, target(i));
    const last = await ledger.publish(onB);
    await Promise.all(clients.map((client) => received(client, last.data, WAIT_MS)));

    const audit = total(
      clients.map((client, i) => ledger.audit(SUBS[i], framesOf(client), since[i])),
    );
    expect(audit).toMatchObject(CLEAN);
    expect(clients.map((client) => client.ended)).toEqual(clients.map(() => false));
  });
});

describe('Redis killed and restarted without its data', () => {
  const setup = twoInstances(false, 'faults-amnesia');

  it('resets every open stream, with an id in the new log, then delivers new messages', async () => {
    const { redis, a, b, clients, since, onA, onB } = setup;
    const ledger = new Ledger('amnesia');
    for (let i = 0; i < 10; i++) await ledger.publish(i % 2 ? onA : onB, target(i));
    const before = await ledger.publish(onA);
    await Promise.all(clients.map((client) => received(client, before.data, WAIT_MS)));

    redis.signal('SIGKILL');
    await redis.restart();
    // Published at once: it may reach the new log before the instances have seen it is new.
    const first = await ledger.publish(onB);
    expect(first.status).toBe('acknowledged');
    expect(epochOf(first.id!)).not.toBe(epochOf(before.id!));
    for (let i = 0; i < 10; i++) await ledger.publish(i % 2 ? onA : onB, target(i));
    const last = await ledger.publish(onB);
    await Promise.all(clients.map((client) => received(client, last.data, WAIT_MS)));
    expect(reading(a, b)).toBe(true);

    for (const client of clients) {
      const resets = client.events.filter((event) => event.event === 'reset');
      expect(resets).toHaveLength(1);
      expect(JSON.parse(resets[0].data!)).toEqual({ reason: 'lost' });
      expect(resets[0].id).toMatch(EVENT_ID);
      expect(epochOf(resets[0].id!)).toBe(epochOf(first.id!));
      expect(client.ended).toBe(false);
    }
    const audit = total(
      clients.map((client, i) => ledger.audit(SUBS[i], framesOf(client), since[i])),
    );
    expect(audit).toMatchObject({
      lost: 0,
      duplicated: 0,
      outOfOrder: 0,
      unexpected: 0,
      resets: 4,
    });
  });
});

describe('one instance losing its connections to Redis (through a proxy)', () => {
  let redis: RedisServer;
  let proxy: RedisProxy;
  let a: TestApp;
  let b: TestApp;
  /** Like B, with a publishTimeoutMs shorter than the command timeout. */
  let c: TestApp;
  let client: RawSseClient;
  let since: string;
  beforeAll(async () => {
    redis = await startRedis();
    proxy = await RedisProxy.start(redis.port);
    const options = { redisKeyPrefix: 'faults-cut', jwtSecret: JWT_SECRET };
    a = await startApp({ ...options, redisUrl: redis.url });
    b = await startApp({
      ...options,
      redisUrl: proxy.url,
      publishTimeoutMs: LONG_PUBLISH_TIMEOUT_MS,
    });
    c = await startApp({
      ...options,
      redisUrl: proxy.url,
      publishTimeoutMs: SHORT_PUBLISH_TIMEOUT_MS,
    });
    client = await openStream(b.url, 'ann');
    since = (await connected(client)).id!;
  });
  afterAll(async () => {
    client?.close();
    await Promise.all([a?.close(), b?.close(), c?.close()]);
    await proxy?.close();
    await redis?.stop();
  });

  it('retries a batch of publishes whose reply was lost, and each lands once, with its first id', async () => {
    const ledger = new Ledger('lost-reply');
    const onA: Publish = (data, opts) => a.bus.publish(data, opts);
    const watcher = await openStream(a.url, 'ben');
    const watching = (await connected(watcher)).id!;
    // Redis runs B's publishes (three of one turn: one script call), but its reply never
    // reaches B, whose connection then breaks.
    proxy.hold('writer');
    const publishing = [0, 1, 2].map(() =>
      ledger.publish((data, opts) => b.bus.publish(data, opts)),
    );
    const batch = ledger.pending.map((each) => each.data);
    const landed = await Promise.all(batch.map((data) => received(watcher, data, WAIT_MS)));
    proxy.cut('writer');
    const sent = await Promise.all(publishing);
    expect(sent.map((each) => each.status)).toEqual(batch.map(() => 'acknowledged'));
    expect(sent.map((each) => each.id)).toEqual(landed.map((event) => event.id));

    // B's reader is cut too, and reads on where it stopped.
    proxy.cut('reader');
    const after = [await ledger.publish(onA), await ledger.publish(onA, ['ann'])];
    await Promise.all([received(client, after[1].data, WAIT_MS), received(watcher, after[0].data)]);
    const last = await ledger.publish(onA);
    await Promise.all([received(client, last.data, WAIT_MS), received(watcher, last.data)]);
    watcher.close();
    const audits = [
      ledger.audit('ann', framesOf(client), since),
      ledger.audit('ben', framesOf(watcher), watching),
    ];
    expect(total(audits)).toMatchObject(CLEAN);
    expect(b.bus.health().reading).toBe(true);
  });

  it('replaces a writer connection that went silent, and publishes through a new one', async () => {
    const ledger = new Ledger('silent-writer');
    const onB: Publish = (data, opts) => b.bus.publish(data, opts);
    const onC: Publish = (data, opts) => c.bus.publish(data, opts);
    // Nothing B or C writes reaches Redis, nothing comes back, and no error says so.
    proxy.silence('writer');
    // B's publish outlives the command timeout: it is retried on a new connection.
    const sent = await ledger.publish(onB, ['ann']);
    expect(sent.error).toBeUndefined();
    // C's give up first; its writer is replaced all the same, and later ones land.
    const givenUp = await ledger.publish(onC);
    expect(givenUp.error).toBeInstanceOf(BusUnavailableError);
    await waitFor(
      async () => (await ledger.publish(onC)).status === 'acknowledged',
      'a publish through C to land',
      WAIT_MS,
    );
    const last = await ledger.publish(onB);
    await received(client, last.data, WAIT_MS);
    const frames = framesOf(client).filter((frame) => ledger.find(frame.data));
    expect(ledger.audit('ann', frames, since)).toMatchObject({
      lost: 0,
      duplicated: 0,
      outOfOrder: 0,
      unexpected: 0,
    });
    // Written to the silent connection, it never reached Redis. (A later publish that gave up
    // on a busy machine may have landed: a rejection promises nothing either way.)
    expect(frames.map((frame) => frame.data)).not.toContain(givenUp.data);
  });
});
