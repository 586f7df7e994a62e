import { Redis } from 'ioredis';
import { IdempotencyKeyReusedError, InvalidMessageError } from '../../src/index.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import { type TestApp, startApp } from '../support/test-app.js';
import { messagesUpTo, streamOf } from '../support/own-stream.js';
import { postPublish } from '../support/publish.js';

async function post(url: string, body: unknown, idempotencyKey?: string) {
  const response = await postPublish(url, 'p-token', body, idempotencyKey);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('idempotency keys on the embedded bus', () => {
  let app: TestApp;
  beforeAll(async () => (app = await startApp({ publishToken: 'p-token' })));
  afterAll(() => app.close());

  it('POST /sse/publish with an Idempotency-Key seen before answers the first id, and delivers once', async () => {
    const client = await streamOf(app, 'alice');
    const first = await post(app.url, { data: { n: 1 }, clientId: 'alice' }, 'order-1');
    const retry = await post(app.url, { data: { n: 1 }, clientId: 'alice' }, 'order-1');
    expect(first.status).toBe(202);
    expect(retry).toEqual(first);
    // Beside it, a normal publish.
    expect((await post(app.url, { data: { marker: 'a' }, clientId: 'alice' })).status).toBe(202);
    expect(await messagesUpTo(client, 'a')).toEqual([{ n: 1 }, { marker: 'a' }]);
    expect(client.events[1].id).toBe(first.body.id);
    client.close();
  });

  it('answers 422 for a key seen with another message, and delivers nothing', async () => {
    const client = await streamOf(app, 'bob');
    expect((await post(app.url, { data: { n: 1 }, clientId: 'bob' }, 'order-2')).status).toBe(202);
    const other = await post(app.url, { data: { n: 2 }, clientId: 'bob' }, 'order-2');
    expect(other.status).toBe(422);
    expect(other.body.message).toMatch(/idempotency key was used .* for a different message/);
    await post(app.url, { data: { marker: 'b' }, clientId: 'bob' });
    expect(await messagesUpTo(client, 'b')).toEqual([{ n: 1 }, { marker: 'b' }]);
    client.close();
  });

  it.each([
    ['too long', 'k'.repeat(256)],
    ['with a space', 'two words'],
  ])('answers 400 for a key %s, saying what a key must be', async (_, key) => {
    const { status, body } = await post(app.url, { data: 1 }, key);
    expect(status).toBe(400);
    expect(body.message).toMatch(/idempotencyKey must be 1 to 255 printable ASCII/);
  });

  it('publish() with a key seen before resolves to the first id; with another message, rejects', async () => {
    const id = await app.bus.publish({ n: 1 }, { idempotencyKey: 'api-1' });
    await expect(app.bus.publish({ n: 1 }, { idempotencyKey: 'api-1' })).resolves.toBe(id);
    await expect(app.bus.publish({ n: 9 }, { idempotencyKey: 'api-1' })).rejects.toThrow(
      IdempotencyKeyReusedError,
    );
    await expect(app.bus.publish(1, { idempotencyKey: '' })).rejects.toThrow(InvalidMessageError);
  });
});

describe('idempotency keys on one Redis, two instances', () => {
  const MAX_KEYS = 50;
  const WINDOW_MS = 60_000;
  let redis: RedisServer;
  let admin: Redis;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
    const options = {
      redisUrl: redis.url,
      redisKeyPrefix: 'idempotency',
      idempotencyMaxKeys: MAX_KEYS,
      idempotencyWindowMs: WINDOW_MS,
    };
    [a, b] = await Promise.all([startApp(options), startApp(options)]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    admin?.disconnect();
    await redis?.stop();
  });

  it("answers a retry on B of A's key with A's id; a stream on B gets the message once", async () => {
    const client = await streamOf(b, 'carol');
    const id = await a.bus.publish({ n: 1 }, { clientId: 'carol', idempotencyKey: 'shared-1' });
    await expect(
      b.bus.publish({ n: 1 }, { clientId: 'carol', idempotencyKey: 'shared-1' }),
    ).resolves.toBe(id);
    await expect(
      b.bus.publish({ n: 2 }, { clientId: 'carol', idempotencyKey: 'shared-1' }),
    ).rejects.toThrow(IdempotencyKeyReusedError);
    await a.bus.publish({ marker: 'c' }, { clientId: 'carol' });
    expect(await messagesUpTo(client, 'c')).toEqual([{ n: 1 }, { marker: 'c' }]);
    expect(client.events[1].id).toBe(id);
    // Remembered for the window, in the log's hash tag.
    const ttl = await admin.pttl('{idempotency}:idem:shared-1');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(WINDOW_MS);
    client.close();
  });

  it('lands once when the same key comes in the same batch', async () => {
    const client = await streamOf(a, 'dave');
    const ids = await Promise.all(
      [a, a, b].map((app) => app.bus.publish({ n: 1 }, { clientId: 'dave', idempotencyKey: 'k' })),
    );
    expect(new Set(ids).size).toBe(1);
    await b.bus.publish({ marker: 'd' }, { clientId: 'dave' });
    expect(await messagesUpTo(client, 'd')).toEqual([{ n: 1 }, { marker: 'd' }]);
    client.close();
  });

  it('remembers at most idempotencyMaxKeys keys: past it, the oldest is forgotten first', async () => {
    const publish = (n: number) => a.bus.publish({ n }, { idempotencyKey: `bounded-${n}` });
    const ids: string[] = [];
    for (let n = 0; n < MAX_KEYS + 10; n++) ids.push(await publish(n));
    expect(await admin.zcard('{idempotency}:idem')).toBe(MAX_KEYS);
    expect(await admin.keys('{idempotency}:idem:*')).toHaveLength(MAX_KEYS);
    await expect(publish(MAX_KEYS + 9)).resolves.toBe(ids[MAX_KEYS + 9]);
    // Forgotten: published again.
    await expect(publish(0)).resolves.not.toBe(ids[0]);
  });

  it('takes a key remembered in another epoch of the log as unseen: that log is gone', async () => {
    const first = await a.bus.publish({ n: 1 }, { idempotencyKey: 'epoch-1' });
    // The log lost (an eviction, a flush of it): the next append starts a new epoch.
    await admin.del('{idempotency}:log');
    const again = await b.bus.publish({ n: 1 }, { idempotencyKey: 'epoch-1' });
    expect(again.split('.')[0]).not.toBe(first.split('.')[0]);
    await expect(a.bus.publish({ n: 1 }, { idempotencyKey: 'epoch-1' })).resolves.toBe(again);
  });
});
