import { type RedisServer, startRedis } from '../support/redis-server.js';
import { RawSseClient } from '../support/sse-client.js';
import { type TestApp, startApp } from '../support/test-app.js';

describe('two instances sharing Redis', () => {
  let redis: RedisServer;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    redis = await startRedis();
    const options = { redisUrl: redis.url, redisKeyPrefix: 'two-instances' };
    [a, b] = await Promise.all([startApp(options), startApp(options)]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await redis?.stop();
  });

  it('delivers a broadcast published on one instance to clients of both, with one id', async () => {
    const onA = new RawSseClient(`${a.url}/sse/msg`);
    const onB = new RawSseClient(`${b.url}/sse/msg`);
    await Promise.all([onA.waitForEvents(1), onB.waitForEvents(1)]);
    const id = await a.bus.publish({ n: 1 });
    expect(id).toMatch(/^[A-Za-z0-9_-]+\.\d+-\d+$/);
    const [fromA, fromB] = await Promise.all([onA.waitForEvents(2), onB.waitForEvents(2)]);
    expect(fromA[1]).toEqual({ id, data: '{"n":1}' });
    expect(fromB[1]).toEqual({ id, data: '{"n":1}' });
    onA.close();
    onB.close();
  });
});
