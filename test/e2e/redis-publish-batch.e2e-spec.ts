import { Redis } from 'ioredis';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import { type TestApp, startApp } from '../support/test-app.js';
import { scriptCalls } from '../../bench/lib/script-calls.js';
import { entryFields } from '../support/log-entry.js';
import { RawSseClient } from '../support/sse-client.js';

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
    // Its epoch and data, no recipients, event or spread, a topic on every other one.
    const epoch = ids[0].split('.')[0];
    expect(entries.map(([, fields]) => entryFields(fields))).toEqual(
      ids.map((_, n) => ({
        e: epoch,
        sp: '',
        to: '',
        tp: n % 2 ? '' : 't',
        ev: '',
        d: `{"n":${n}}`,
      })),
    );
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThan(50);
  });

  it('reads on a log whose entries were written a field each, as before an upgrade', async () => {
    const first = await app.bus.publish({ n: 'new' });
    const [epoch, firstEntry] = first.split('.');
    const live = new RawSseClient(`${app.url}/sse/msg`);
    await live.waitForEvents(1);
    // As an earlier version wrote them: a broadcast, and one with an event and a topic.
    const old = [
      await client.xadd('{batch}:log', '*', 'e', epoch, 'd', '{"n":"old"}'),
      await client.xadd('{batch}:log', '*', 'e', epoch, 'd', '{"n":"old2"}', 'ev', 'shipped'),
    ].map((entry) => `${epoch}.${entry}`);
    const last = await app.bus.publish({ n: 'after' });
    const events = await live.waitForEvents(4);
    expect(events.slice(1)).toEqual([
      { id: old[0], data: '{"n":"old"}' },
      { id: old[1], event: 'shipped', data: '{"n":"old2"}' },
      { id: last, data: '{"n":"after"}' },
    ]);
    // And from the history, to a stream resuming from before them.
    const resumed = new RawSseClient(`${app.url}/sse/msg`, {
      'last-event-id': `${epoch}.${firstEntry}`,
    });
    const replayed = await resumed.waitForEvents(4);
    expect(replayed.slice(1).map(({ id }) => id)).toEqual([...old, last]);
    live.close();
    resumed.close();
  });
});
