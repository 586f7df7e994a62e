import { Redis } from 'ioredis';
import { BusTransport, HistoryGap } from '../../src/bus/bus-transport.js';
import { parseEventId } from '../../src/bus/event-id.js';
import { type RedisServer, redisNow, startRedis } from '../support/redis-server.js';
import { RawSseClient } from '../support/sse-client.js';
import { type TestApp, startApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

/** Whether the history has cut what came after `cursor`. */
async function expiredAfter(transport: BusTransport, cursor: string): Promise<boolean> {
  try {
    for await (const page of transport.replay(cursor, { clientId: 'c', topics: null })) void page;
    return false;
  } catch (err) {
    return err instanceof HistoryGap && err.reason === 'expired';
  }
}

/** A stream resuming from `lastEventId`, once it has received `count` events. */
async function resumed(app: TestApp, lastEventId: string, count: number) {
  const client = new RawSseClient(`${app.url}/sse/msg`, { 'last-event-id': lastEventId });
  const events = await client.waitForEvents(count);
  client.close();
  return events.slice(1).map((event) => event.event ?? event.data);
}

describe('history by age', () => {
  let redis: RedisServer;
  let admin: Redis;
  const apps: TestApp[] = [];
  const start = async (options: Parameters<typeof startApp>[0]) => {
    const app = await startApp(options);
    apps.push(app);
    return app;
  };
  beforeAll(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    admin?.disconnect();
    await redis?.stop();
  });

  it('with Redis, resets a cursor from before the cut and replays one on or after it', async () => {
    const app = await start({ redisUrl: redis.url, redisKeyPrefix: 'age-cut' });
    const before = app.bus.position();
    const old = await app.bus.publish('old');
    // The cut goes by the ids' milliseconds, from Redis's clock: the next one must be later.
    const oldMs = parseEventId(old)!.ms;
    await waitFor(async () => (await redisNow(admin)) > oldMs, 'the clock to move on');
    const kept = await app.bus.publish('kept');
    await app.app.get(BusTransport).trimBefore(parseEventId(kept)!.ms);
    expect(await admin.xlen('{age-cut}:log')).toBe(1);
    expect(await resumed(app, before, 2)).toEqual(['reset']);
    // It had the last message cut: it missed nothing.
    expect(await resumed(app, old, 2)).toEqual(['"kept"']);
  });

  it.each([
    ['the embedded bus', undefined],
    ['Redis', 'redis'],
  ])('on %s, drops messages older than historyMaxAgeMs on its own', async (_, withRedis) => {
    const app = await start({
      redisUrl: withRedis && redis.url,
      redisKeyPrefix: 'age-job',
      historyMaxAgeMs: 50,
    });
    const transport = app.app.get(BusTransport);
    const before = app.bus.position();
    const aged = await app.bus.publish('aged');
    await waitFor(() => expiredAfter(transport, before), 'the message to age out');
    if (withRedis) expect(await admin.xlen('{age-job}:log')).toBe(0);
    const expired = new RawSseClient(`${app.url}/sse/msg`, { 'last-event-id': before });
    const fresh = new RawSseClient(`${app.url}/sse/msg`, { 'last-event-id': aged });
    await Promise.all([expired.waitForEvents(2), fresh.waitForEvents(1)]);
    const live = await app.bus.publish('live');
    await Promise.all(
      [expired, fresh].map((client) => client.waitForEvent((e) => e.id === live, 'live')),
    );
    expired.close();
    fresh.close();
    expect(expired.events.slice(1).map((e) => e.event ?? e.data)).toEqual(['reset', '"live"']);
    expect(JSON.parse(expired.events[1].data!)).toEqual({ reason: 'expired' });
    expect(fresh.events.slice(1).map((e) => e.event ?? e.data)).toEqual(['"live"']);
  });
});
