import { type RedisServer, startRedis } from '../support/redis-server.js';
import { type TestApp, startApp } from '../support/test-app.js';
import {
  LONG_PUBLISH_TIMEOUT_MS,
  SOAK_CLIENTS,
  SOAK_MESSAGES,
  SOAK_READER_LAG_MS,
} from './support/fault-config.js';
import { RedisProxy } from './support/redis-proxy.js';
import type { ResumingClient } from './support/resuming-client.js';
import { soak } from './support/soak.js';
import { JWT_SECRET } from './support/tokens.js';

/** The soak (see `soak`) on one Redis, one of the two instances reading it late. */
describe('soak: clients reconnecting at random to two instances while messages flow', () => {
  let redis: RedisServer;
  let proxy: RedisProxy;
  let apps: TestApp[] = [];
  let clients: ResumingClient[] = [];
  beforeAll(async () => {
    redis = await startRedis();
    // The second instance reads late: clients moving to it are often ahead of its reader.
    proxy = await RedisProxy.start(redis.port);
    proxy.lag('reader', SOAK_READER_LAG_MS);
    // What is asserted is what clients get; a publish slowed down by a busy machine is not lost.
    const options = {
      redisKeyPrefix: 'faults-soak',
      jwtSecret: JWT_SECRET,
      publishTimeoutMs: LONG_PUBLISH_TIMEOUT_MS,
    };
    apps = await Promise.all([
      startApp({ ...options, redisUrl: redis.url }),
      startApp({ ...options, redisUrl: proxy.url }),
    ]);
  });
  afterAll(async () => {
    clients.forEach((client) => client.disconnect());
    await Promise.all(apps.map((app) => app.close()));
    await proxy?.close();
    await redis?.stop();
  });

  it(`loses, repeats and reorders nothing for ${SOAK_CLIENTS} clients and ${SOAK_MESSAGES} messages`, async () => {
    clients = await soak(apps);
  }, 600_000);
});
