import { type RedisCluster, startRedisCluster } from '../support/redis-cluster.js';
import { type TestApp, startApp } from '../support/test-app.js';
import {
  LONG_PUBLISH_TIMEOUT_MS,
  SOAK_CLIENTS,
  SOAK_MESSAGES,
} from '../faults/support/fault-config.js';
import type { ResumingClient } from '../faults/support/resuming-client.js';
import { soak } from '../faults/support/soak.js';
import { JWT_SECRET } from '../faults/support/tokens.js';

/** The soak (see `soak`) on a Redis Cluster: ids are each stream's positions on the shards. */
describe('soak on a Redis Cluster: clients reconnecting at random to two instances', () => {
  let cluster: RedisCluster;
  let apps: TestApp[] = [];
  let clients: ResumingClient[] = [];
  beforeAll(async () => {
    cluster = await startRedisCluster();
    const options = {
      redisUrl: cluster.url,
      redisKeyPrefix: 'cluster-soak',
      jwtSecret: JWT_SECRET,
      publishTimeoutMs: LONG_PUBLISH_TIMEOUT_MS,
    };
    apps = await Promise.all([startApp(options), startApp(options)]);
  });
  afterAll(async () => {
    clients.forEach((client) => client.disconnect());
    await Promise.all(apps.map((app) => app.close()));
    await cluster?.stop();
  });

  it(`loses, repeats and reorders nothing for ${SOAK_CLIENTS} clients and ${SOAK_MESSAGES} messages`, async () => {
    clients = await soak(apps, true);
  }, 600_000);
});
