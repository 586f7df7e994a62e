import { Redis } from 'ioredis';
import { busConnections } from '../support/client-list.js';
import { getPresence } from '../support/presence.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import { RawSseClient } from '../support/sse-client.js';
import { type TestApp, startApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

const TOKEN = 'upkeep-publish-token';
const STREAMS = 200;
/** Longest wait for the streams to open or a message to reach them; a failure, not a pace. */
const WAIT_MS = 30_000;

describe('presence upkeep with Redis', () => {
  let redis: RedisServer;
  let admin: Redis;
  let app: TestApp;
  let open: RawSseClient[] = [];
  const crowd = () => new RawSseClient(`${app.url}/sse/msg?topic=crowd`, {}, true);
  // One poll for all of them: a thousand polls every 10 ms would starve a busy machine.
  const connected = (clients: RawSseClient[]) =>
    waitFor(
      () => clients.every((client) => client.events.length >= 1),
      `${clients.length} streams to open`,
      WAIT_MS,
    );
  beforeAll(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
    app = await startApp({
      redisUrl: redis.url,
      redisKeyPrefix: 'upkeep',
      publishToken: TOKEN,
      // A refresh every half second; long enough that a busy machine's stalls expire nobody.
      presenceTtlMs: 1500,
    });
  });
  afterAll(async () => {
    open.forEach((client) => client.close());
    await app?.close();
    admin?.disconnect();
    await redis?.stop();
  });

  it('costs one round trip per refresh, whatever the number of streams and messages', async () => {
    open = Array.from({ length: STREAMS }, crowd);
    await connected(open);
    await waitFor(
      async () => (await admin.zcard('{upkeep}:presence:clients')) === STREAMS,
      `${STREAMS} clients in presence`,
      WAIT_MS,
    );
    const [{ addr: address }] = await busConnections(admin, 'presence');

    // Commands the presence connection sends, and refreshes (one ZADD of its expiry each).
    let sent = 0;
    let refreshes = 0;
    const monitor = await admin.monitor();
    monitor.on('monitor', (_: string, args: string[], source: string) => {
      if (source === address) sent++;
      if (
        source === 'lua' &&
        /^zadd$/i.test(args[0]) &&
        args[1] === '{upkeep}:presence:instances'
      ) {
        refreshes++;
      }
    });
    // Streams come and go, and messages reach all of them, through several refreshes.
    let round = 0;
    try {
      for (; refreshes < 4; round++) {
        open.splice(0, 20).forEach((client) => client.close());
        const fresh = Array.from({ length: 20 }, crowd);
        await connected(fresh);
        open.push(...fresh);
        const id = await app.bus.publish({ round });
        await waitFor(
          () => open.every((client) => client.lastId === id),
          `message ${round} to reach every stream`,
          WAIT_MS,
        );
      }
    } finally {
      monitor.disconnect();
    }
    console.log(
      `presence connection: ${sent} commands over ${refreshes} refreshes, ${STREAMS} streams, ` +
        `${round} rounds of 20 streams replaced and a message to all`,
    );
    // The last command seen may be a refresh whose ZADD was not yet seen.
    expect(sent).toBeGreaterThanOrEqual(refreshes);
    expect(sent).toBeLessThanOrEqual(refreshes + 1);
  });

  it('answers from the totals, listing 1,000 clients of a topic at most', async () => {
    await waitFor(
      async () => (await admin.zcard('{upkeep}:presence:topic:crowd')) === STREAMS,
      `${STREAMS} clients on the topic`,
      WAIT_MS,
    );
    expect(await getPresence(app.url, '', TOKEN)).toEqual({
      status: 200,
      body: { clients: STREAMS, streams: STREAMS },
    });
    expect((await getPresence(app.url, '?topic=crowd', TOKEN)).body.clients).toHaveLength(STREAMS);
    // A topic of 1,001 clients in the totals, cheaper than as many streams.
    const members = Array.from({ length: 1001 }, (_, n) => [1, `client-${n}`]).flat();
    await admin.zadd('{upkeep}:presence:topic:crowded', ...members);
    const answer = await getPresence(app.url, '?topic=crowded', TOKEN);
    expect(answer.status).toBe(200);
    expect(answer.body.clients).toHaveLength(1000);
  });
});
