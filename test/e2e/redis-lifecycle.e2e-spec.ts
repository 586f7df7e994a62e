import { Redis } from 'ioredis';
import { busConnections } from '../support/client-list.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import { startService } from '../support/service-process.js';
import { RawSseClient } from '../support/sse-client.js';
import { type TestApp, startApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

describe('with Redis', () => {
  let redis: RedisServer;
  let admin: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
  });
  afterAll(async () => {
    admin.disconnect();
    await redis.stop();
  });

  const busConnections = async () =>
    (String(await admin.client('LIST')).match(/name=sse-bus:/g) ?? []).length;

  it('on SIGTERM lets pending publishes finish, closes its Redis connections and exits 0', async () => {
    const service = await startService({
      REDIS_URL: redis.url,
      SSE_PUBLISH_TOKEN: 't',
      SSE_REDIS_PREFIX: 'shutdown',
      // A publish's request lines are at debug: the wait below reads them.
      LOG_LEVEL: 'debug',
    });
    // The writer, the reader, presence's and the client gate's.
    expect(await busConnections()).toBe(4);
    const client = new RawSseClient(`${service.url}/sse/msg`);
    await client.waitForEvents(1);
    const publish = (n: number) =>
      fetch(`${service.url}/sse/publish`, {
        method: 'POST',
        headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
        body: JSON.stringify({ data: n }),
      }).then(
        async (response) =>
          response.status === 202
            ? ((await response.json()) as { id: string }).id
            : response.status,
        (): string | number => 'refused',
      );
    expect(typeof (await publish(-1))).toBe('string');
    const inFlight = Array.from({ length: 50 }, (_, n) => publish(n));
    // Once some are being handled, so that the shutdown finds publishes in flight.
    await waitFor(
      () => service.output().split('incoming request').length > 10,
      'publishes in flight',
    );
    const exit = service.stop('SIGTERM');
    const results = await Promise.all(inFlight);
    expect(await exit).toBe(0);
    // Not by the SSE_SHUTDOWN_MS deadline, which would also exit 0.
    expect(service.output()).toMatch(/Shut down\b/);
    const accepted = results.filter(
      (result): result is string => typeof result === 'string' && result !== 'refused',
    );
    expect(accepted.length).toBeGreaterThan(0);
    // Each was accepted (and is in the log) or refused at the door; none failed half-way.
    expect(results.every((result) => typeof result === 'string' || result === 503)).toBe(true);
    const logged = await admin.xrange('{shutdown}:log', '-', '+');
    const ids = new Set(logged.map(([id]) => id));
    for (const id of accepted) expect(ids.has(id.split('.')[1])).toBe(true);
    await waitFor(async () => (await busConnections()) === 0, 'its Redis connections to close');
  });

  describe('while Redis is frozen', () => {
    let app: TestApp;
    /** From before the instance started: what came after it is only in Redis. */
    let beforeStart: string;
    beforeAll(async () => {
      const earlier = await startApp({ redisUrl: redis.url, redisKeyPrefix: 'frozen' });
      beforeStart = earlier.bus.position();
      await earlier.bus.publish('before the instance started');
      await earlier.close();
      app = await startApp({ redisUrl: redis.url, redisKeyPrefix: 'frozen', heartbeatMs: 100 });
    });
    afterEach(() => redis.signal('SIGCONT'));
    afterAll(async () => {
      await app.close();
    });

    it('resumes a stream from what the instance has read, without asking Redis', async () => {
      const first = new RawSseClient(`${app.url}/sse/msg`);
      const [connected] = await first.waitForEvents(1);
      const missed = await app.bus.publish('missed');
      await first.waitForEvent((event) => event.id === missed, 'the message');
      first.close();
      redis.signal('SIGSTOP');
      const resuming = new RawSseClient(`${app.url}/sse/msg`, { 'last-event-id': connected.id! });
      const events = await resuming.waitForEvents(2);
      resuming.close();
      expect(events.map((event) => event.event ?? event.data)).toEqual(['connected', '"missed"']);
    });

    it('ends a stream it cannot resume with a retry, never with an error frame', async () => {
      redis.signal('SIGSTOP');
      const resuming = new RawSseClient(`${app.url}/sse/msg`, { 'last-event-id': beforeStart });
      await waitFor(() => resuming.ended, 'the stream to end', 15_000);
      redis.signal('SIGCONT');
      expect(resuming.status).toBe(200);
      expect(resuming.events.map((event) => event.event ?? 'message')).toEqual([
        'connected',
        'closing',
      ]);
      expect(resuming.events[1].retry).toBeGreaterThan(0);
      expect(resuming.raw).not.toContain('event: error');
    });
  });
});

describe('a log that lost what was read from it', () => {
  let redis: RedisServer;
  let admin: Redis;
  let app: TestApp;
  beforeAll(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
    app = await startApp({ redisUrl: redis.url, redisKeyPrefix: 'holed' });
  });
  afterAll(async () => {
    await app.close();
    admin.disconnect();
    await redis.stop();
  });

  // As a Redis failover or a restart that lost its last writes would leave it. The loss is made
  // here by hand (XDEL), and the reader made to read the log again by dropping its connection.
  it('resets its streams (reason lost), then goes on with what comes next', async () => {
    const client = new RawSseClient(`${app.url}/orders/events`, { 'x-user': 'ann' });
    try {
      await client.waitForEvents(1);
      await app.bus.publish({ kept: true }, { clientId: 'ann' });
      await app.bus.publish({ lost: true }, { clientId: 'ann' });
      await client.waitForEvent((event) => event.data === '{"lost":true}', 'the message');
      const [[lost]] = await admin.xrevrange('{holed}:log', '+', '-', 'COUNT', 1);
      await admin.xdel('{holed}:log', lost);
      const [reader] = await busConnections(admin, 'reader');
      await admin.call('CLIENT', 'KILL', 'ID', reader.id);
      const reset = await client.waitForEvent((event) => event.event === 'reset', 'the reset');
      expect(reset.data).toBe('{"reason":"lost"}');
      await app.bus.publish({ after: true }, { clientId: 'ann' });
      await client.waitForEvent((event) => event.data === '{"after":true}', 'what comes next');
    } finally {
      client.close();
    }
  });
});

describe('health()', () => {
  it('says whether the instance can read the log and publish to it', async () => {
    const redis = await startRedis();
    const app = await startApp({ redisUrl: redis.url });
    expect(app.bus.health()).toEqual({
      transport: 'redis',
      reading: true,
      writing: true,
      detail: undefined,
    });
    redis.signal('SIGKILL');
    await waitFor(() => {
      const health = app.bus.health();
      return !health.reading && !health.writing;
    }, 'health to report the outage');
    expect(app.bus.health().detail).toEqual(expect.any(String));
    await redis.restart();
    await waitFor(() => app.bus.health().reading && app.bus.health().writing, 'health to recover');
    await app.close();
    await redis.stop();
  });
});
