import { Redis } from 'ioredis';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import { type TestApp, startApp } from '../support/test-app.js';
import { scriptCalls } from '../../bench/lib/script-calls.js';

describe('publishes through Redis, batched', () => {
  let redis: RedisServer;
  let app: TestApp;
  let client: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    app = await startApp({ redisUrl: redis.url, redisKeyPrefix: 'batch' });
    client = new Redis(redis.url);
  });
  afterAll(async () => {
    client?.disconnect();
    await app?.close();
    await redis?.stop();
  });

  it('appends 1,000 concurrent publishes in order, each once, with a few script calls', async () => {
    const before = await scriptCalls(client);
    const ids = await Promise.all(
      Array.from({ length: 1000 }, (_, n) => app.bus.publish({ n }, n % 2 ? {} : { topic: 't' })),
    );
    const calls = (await scriptCalls(client)) - before;

    expect(new Set(ids).size).toBe(1000);
    const entries = await client.xrange('{batch}:log', '-', '+');
    expect(entries).toHaveLength(1000);
    // Each publish got the id of its own entry, in the order they were called.
    expect(entries.map(([id]) => `${ids[0].split('.')[0]}.${id}`)).toEqual(ids);
    // Its epoch and data, and only the fields it has: no recipients, event or spread, a topic on
    // every other one.
    const epoch = ids[0].split('.')[0];
    expect(entries.map(([, fields]) => fields)).toEqual(
      ids.map((_, n) => ['e', epoch, 'd', `{"n":${n}}`, ...(n % 2 ? [] : ['tp', 't'])]),
    );
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThan(50);
  });
});
