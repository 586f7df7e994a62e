import { Redis } from 'ioredis';
import { getPresence, streamOf } from '../support/presence.js';
import { type RedisServer, redisNow, startRedis } from '../support/redis-server.js';
import { type ServiceProcess, startService } from '../support/service-process.js';
import type { RawSseClient } from '../support/sse-client.js';
import { waitFor } from '../support/wait-for.js';
import { assertBuildIsFresh } from './support/built.js';
import { WAIT_MS } from './support/fault-config.js';
import { JWT_SECRET } from './support/tokens.js';

const PUBLISH_TOKEN = 'faults-presence-token';
/** Long enough that a busy machine's stalls do not expire the instance that stays. */
const TTL_MS = 2000;
/** Streams on every topic they may have: 40 of them add 1,320 fields, more than one batch. */
const CROWD = 40;
const TOPICS = Array.from({ length: 32 }, (_, n) => `t${n}`);

describe('presence when an instance goes away', () => {
  let redis: RedisServer;
  let admin: Redis;
  let b: ServiceProcess;
  const services: ServiceProcess[] = [];
  const clients: RawSseClient[] = [];
  const env = () => ({
    REDIS_URL: redis.url,
    SSE_REDIS_PREFIX: 'faults-presence',
    SSE_JWT_SECRET: JWT_SECRET,
    SSE_PUBLISH_TOKEN: PUBLISH_TOKEN,
    SSE_PRESENCE_TTL_MS: String(TTL_MS),
    LOG_LEVEL: 'warn',
  });
  const start = async () => {
    const service = await startService(env());
    services.push(service);
    return service;
  };
  const stream = async (service: ServiceProcess, sub: string, topics = ['room']) => {
    const client = await streamOf(service.url, JWT_SECRET, sub, topics);
    clients.push(client);
    return client;
  };
  /** What B says of presence: the count, and the clients on the topic, sorted. */
  const seenByB = async () => {
    const count = await getPresence(b.url, '', PUBLISH_TOKEN);
    const room = await getPresence(b.url, '?topic=room', PUBLISH_TOKEN);
    return { ...count.body, room: (room.body.clients as string[]).sort() };
  };
  /**
   * A new instance with streams of `sub`, of bea (who is on B too) and of a crowd on many topics,
   * once B counts them.
   */
  const joinedBy = async (sub: string) => {
    const service = await start();
    await stream(service, sub);
    await stream(service, 'bea');
    await Promise.all(
      Array.from({ length: CROWD }, (_, n) => stream(service, `${sub}-${n}`, TOPICS)),
    );
    const expected = JSON.stringify({
      clients: 2 + CROWD,
      streams: 3 + CROWD,
      room: [sub, 'bea'].sort(),
    });
    await waitFor(
      async () => JSON.stringify(await seenByB()) === expected,
      'the streams of both instances in presence',
      WAIT_MS,
    );
    return service;
  };
  beforeAll(async () => {
    assertBuildIsFresh();
    redis = await startRedis();
    admin = new Redis(redis.url);
    b = await start();
    await stream(b, 'bea');
  });
  afterAll(async () => {
    clients.forEach((client) => client.close());
    await Promise.all(services.map((service) => service.stop('SIGKILL')));
    admin?.disconnect();
    await redis?.stop();
  });

  it('counts the clients of a killed instance (SIGKILL) no longer than the TTL', async () => {
    const a = await joinedBy('abe');
    expect(await a.stop('SIGKILL')).toBeNull();
    // Its last refresh, before the kill, gave it until then at most (Redis's clock decides).
    const expiry = (await redisNow(admin)) + TTL_MS;
    await waitFor(async () => (await redisNow(admin)) >= expiry, 'the TTL to pass', WAIT_MS);
    expect(await seenByB()).toEqual({ clients: 1, streams: 1, room: ['bea'] });
    expect(await getPresence(b.url, '?clientId=abe', PUBLISH_TOKEN)).toMatchObject({
      body: { online: false, streams: 0 },
    });
    expect(await getPresence(b.url, '?topic=t31', PUBLISH_TOKEN)).toMatchObject({
      body: { clients: [] },
    });
    expect(await admin.zcard('{faults-presence}:presence:instances')).toBe(1);
  });

  it('leaves nothing of a stopped instance (SIGTERM) once it has exited', async () => {
    const c = await joinedBy('cal');
    expect(await c.stop('SIGTERM')).toBe(0);
    expect(await seenByB()).toEqual({ clients: 1, streams: 1, room: ['bea'] });
    expect(await admin.zcard('{faults-presence}:presence:instances')).toBe(1);
    expect(await admin.keys('{faults-presence}:presence:instance:*')).toHaveLength(1);
    expect(await admin.keys('{faults-presence}:presence:topic:*')).toEqual([
      '{faults-presence}:presence:topic:room',
    ]);
    // Nor did it hit the shutdown deadline, nor fail to clear its presence (both would warn).
    expect(c.output()).not.toMatch(/ERROR|WARN/);
  });
});
