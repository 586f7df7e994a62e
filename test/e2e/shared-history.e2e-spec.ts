import { Redis } from 'ioredis';
import { BusTransport } from '../../src/bus/bus-transport.js';
import { parseEntryId } from '../../src/bus/log-position.js';
import { RedisLog } from '../../src/bus/transports/redis-log.js';
import { RedisWatchdog } from '../../src/redis/redis-watchdog.js';
import { commandsRun, historyReadsBetween } from '../support/command-stats.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import { RawSseClient } from '../support/sse-client.js';
import { type TestApp, startApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

/** Ids of the messages a stream received (resets would show up as an `undefined`). */
const messageIds = (client: RawSseClient) =>
  client.events
    .filter((event) => event.event === undefined || event.event === 'reset')
    .filter((event) => event.id !== undefined || event.event === 'reset')
    .map((event) => (event.event === 'reset' ? undefined : event.id));

describe('history shared by resuming clients (Redis)', () => {
  const CLIENTS = 200;
  const MISSED = 100;
  let redis: RedisServer;
  let admin: Redis;
  const apps: TestApp[] = [];
  const clients: RawSseClient[] = [];
  // Presence refreshes rarely, so that what is counted is what the resumes cost.
  const options = { redisKeyPrefix: 'shared-history', presenceTtlMs: 600_000 };
  const start = async () => {
    const app = await startApp({ ...options, redisUrl: redis.url });
    apps.push(app);
    return app;
  };

  beforeAll(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
  });
  afterEach(() => clients.splice(0).forEach((client) => client.close()));
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    admin?.disconnect();
    await redis?.stop();
  });

  it('serves clients resuming from where the instances have read from memory: no history read each, every message once, in order', async () => {
    const [a, b] = [await start(), await start()];
    const cursor = a.bus.position();
    const missed: string[] = [];
    for (let i = 0; i < MISSED; i++) missed.push(await a.bus.publish({ i }));
    const last = missed[MISSED - 1];
    await waitFor(
      () => a.bus.position() === last && b.bus.position() === last,
      'both readers to have read every message',
    );

    const before = await commandsRun(admin);
    for (let i = 0; i < CLIENTS; i++) {
      const app = i % 2 ? a : b;
      clients.push(new RawSseClient(`${app.url}/sse/msg`, { 'last-event-id': cursor }, true));
    }
    await waitFor(
      () => clients.every((client) => messageIds(client).length >= MISSED),
      `${CLIENTS} clients to catch up`,
      30_000,
    );
    // Each stream that opens costs the client gate one script call, whose commands are not these.
    const reads = historyReadsBetween(before, await commandsRun(admin));

    for (const client of clients) expect(messageIds(client)).toEqual(missed);
    expect(reads / CLIENTS).toBeLessThanOrEqual(0.2);
  });

  it('reads a history older than what an instance holds once for every client resuming from the same place at once', async () => {
    const a = await start();
    const cursor = a.bus.position();
    const missed: string[] = [];
    for (let i = 0; i < MISSED; i++) missed.push(await a.bus.publish({ i }));
    // A new instance holds nothing from before its start: the history comes from Redis.
    const late = await start();
    const transport = late.app.get(BusTransport);

    const before = await commandsRun(admin);
    const replays = await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        const ids: string[] = [];
        for await (const page of transport.replay(cursor, { clientId: 'c', topics: null })) {
          ids.push(...page.map((message) => message.id));
        }
        return ids;
      }),
    );
    const after = await commandsRun(admin);

    for (const ids of replays) expect(ids).toEqual(missed);
    // One history script call (EVAL the first time on a connection), whatever else ran meanwhile.
    const scripts = (counts: Map<string, number>) =>
      (counts.get('eval') ?? 0) + (counts.get('evalsha') ?? 0);
    expect(scripts(after) - scripts(before)).toBe(1);
  });

  it('still serves from memory once its reader is back, when the log lost nothing meanwhile', async () => {
    const a = await start();
    const cursor = a.bus.position();
    const missed: string[] = [];
    for (let i = 0; i < MISSED; i++) missed.push(await a.bus.publish({ i }));
    await waitFor(() => a.bus.position() === missed[MISSED - 1], 'the reader to read them');
    // Every connection of every instance drops, and comes back.
    await admin.call('CLIENT', 'KILL', 'TYPE', 'normal');
    const after = await a.bus.publish('after');
    await waitFor(() => a.bus.position() === after, 'the reader to be back');

    const before = await commandsRun(admin);
    for (let i = 0; i < CLIENTS; i++) {
      clients.push(new RawSseClient(`${a.url}/sse/msg`, { 'last-event-id': cursor }, true));
    }
    await waitFor(
      () => clients.every((client) => messageIds(client).length > MISSED),
      `${CLIENTS} clients to catch up`,
      30_000,
    );
    const read = await commandsRun(admin);

    for (const client of clients) expect(messageIds(client)).toEqual([...missed, after]);
    expect(historyReadsBetween(before, read)).toBe(0);
  });

  it('tells a log that may have lost entries after a position from one that cannot have', async () => {
    const log = new RedisLog({
      writer: { redis: admin as never, commands: new RedisWatchdog(admin, 3000) },
      hashTag: '{continuity}',
      maxLength: 100,
      idempotency: { windowMs: 60_000, maxKeys: 100 },
      membershipTtlMs: 60_000,
      waitReplicas: 0,
      commandTimeoutMs: 3000,
    });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await admin.xadd(log.keys.log, '*', 'i', String(i)))!);
    const holds = (id: string) => {
      log.top = parseEntryId(id);
      return log.holdsEverythingAfterTop();
    };
    expect(await holds(ids[0])).toBe(true);
    await admin.xtrim(log.keys.log, 'MINID', ids[1]);
    // Trimming cuts from the oldest: with one at or before it still there, nothing after it went.
    expect(await holds(ids[1])).toBe(true);
    // Its oldest is later: it cannot tell whether entries went in between.
    expect(await holds(ids[0])).toBe(false);
    await admin.xtrim(log.keys.log, 'MAXLEN', 0);
    expect(await holds(ids[2])).toBe(false);
  });
});
