import { TooManyMessagesError } from '../../src/index.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import { type Platform, type TestApp, startApp } from '../support/test-app.js';
import { messagesUpTo, streamOf } from '../support/own-stream.js';
import { postPublish } from '../support/publish.js';

type Result = { id: string } | { error: { statusCode: number; message: string } };

async function post(url: string, body: unknown, idempotencyKey?: string) {
  const response = await postPublish(url, 'p-token', body, idempotencyKey);
  const answer = (await response.json()) as { results?: Result[]; message?: string };
  return { status: response.status, answer, retryAfter: response.headers.get('retry-after') };
}

const LIMITS = { publishToken: 'p-token', maxBatch: 5, maxMessageBytes: 100 };

describe.each<[string, Platform, boolean]>([
  ['embedded, Fastify', 'fastify', false],
  ['embedded, Express', 'express', false],
  ['Redis, Fastify', 'fastify', true],
])('POST /sse/publish with an array (%s)', (_, platform, withRedis) => {
  let redis: RedisServer | undefined;
  let app: TestApp;
  beforeAll(async () => {
    redis = withRedis ? await startRedis() : undefined;
    app = await startApp({ ...LIMITS, redisUrl: redis?.url }, { platform });
  });
  afterAll(async () => {
    await app?.close();
    await redis?.stop();
  });

  it('publishes each message on its own and answers one result per message, in order', async () => {
    const client = await streamOf(app, 'alice');
    const { status, answer } = await post(app.url, [
      { data: { n: 1 }, clientId: 'alice' },
      { data: { n: 2 }, clientId: 'alice', event: 'reset' },
      { clientId: 'alice' },
      { data: 'x'.repeat(200), clientId: 'alice' },
      { data: { n: 5 }, clientId: 'alice' },
    ]);
    expect(status).toBe(202);
    const results = answer.results!;
    expect(results).toEqual([
      { id: expect.any(String) },
      { error: { statusCode: 400, message: expect.stringMatching(/reserved/) } },
      { error: { statusCode: 400, message: '"data" is required' } },
      { error: { statusCode: 413, message: expect.stringMatching(/over the limit of 100/) } },
      { id: expect.any(String) },
    ]);
    await post(app.url, { data: { marker: 'a' }, clientId: 'alice' });
    expect(await messagesUpTo(client, 'a')).toEqual([{ n: 1 }, { n: 5 }, { marker: 'a' }]);
    // In the order they were given, with the ids the answer gave.
    expect(client.events.slice(1, 3).map((event) => event.id)).toEqual([
      (results[0] as { id: string }).id,
      (results[4] as { id: string }).id,
    ]);
    client.close();
  });

  it('lands a batch retried under the same Idempotency-Key once, with the same ids', async () => {
    const client = await streamOf(app, 'bob');
    const batch = [
      { data: { n: 1 }, clientId: 'bob' },
      { data: { n: 2 }, clientId: 'bob' },
      { data: { n: 3 }, clientId: 'bob', idempotencyKey: 'own-3' },
    ];
    const first = await post(app.url, batch, `batch-${platform}`);
    const retry = await post(app.url, batch, `batch-${platform}`);
    expect(first.status).toBe(202);
    expect(retry).toEqual(first);
    // The keys are <key>:<index>, or a message's own: a single publish can name them.
    const single = await post(app.url, { data: { n: 2 }, clientId: 'bob' }, `batch-${platform}:1`);
    expect(single.answer).toEqual(first.answer.results![1]);
    await post(app.url, { data: { marker: 'b' }, clientId: 'bob' });
    expect(await messagesUpTo(client, 'b')).toEqual([
      { n: 1 },
      { n: 2 },
      { n: 3 },
      { marker: 'b' },
    ]);
    client.close();
  });

  it('answers 400 with the results when no message could be published', async () => {
    const { status, answer } = await post(app.url, [{ data: 1, event: 'a b' }, 7]);
    expect(status).toBe(400);
    expect(answer.results).toEqual([
      { error: { statusCode: 400, message: expect.stringMatching(/event must be/) } },
      { error: { statusCode: 400, message: expect.stringMatching(/must be a JSON object/) } },
    ]);
  });

  it('refuses a whole batch that is empty (400) or over maxBatch (413), publishing nothing', async () => {
    const empty = await post(app.url, []);
    expect(empty.status).toBe(400);
    expect(empty.answer.message).toMatch(/no message/);
    const client = await streamOf(app, 'carol');
    const over = await post(
      app.url,
      Array.from({ length: 6 }, (_, n) => ({ data: { n }, clientId: 'carol' })),
    );
    expect(over.status).toBe(413);
    expect(over.answer.message).toMatch(/6 messages, over the limit of 5/);
    await post(app.url, { data: { marker: 'c' }, clientId: 'carol' });
    expect(await messagesUpTo(client, 'c')).toEqual([{ marker: 'c' }]);
    client.close();
  });

  it('publishMany() resolves one result per message, in order, and throws over maxBatch', async () => {
    const client = await streamOf(app, 'dave');
    const results = await app.bus.publishMany([
      { data: { n: 1 }, clientId: 'dave', idempotencyKey: `many-${platform}` },
      { data: 1, clientId: [] },
      { data: { n: 3 }, clientId: 'dave' },
    ]);
    expect(results.map((result) => ('id' in result ? 'id' : result.error.name))).toEqual([
      'id',
      'InvalidMessageError',
      'id',
    ]);
    const [again] = await app.bus.publishMany([
      { data: { n: 1 }, clientId: 'dave', idempotencyKey: `many-${platform}` },
    ]);
    expect(again).toEqual(results[0]);
    await expect(app.bus.publishMany(Array(6).fill({ data: 1 }))).rejects.toThrow(
      TooManyMessagesError,
    );
    await app.bus.publish({ marker: 'd' }, { clientId: 'dave' });
    expect(await messagesUpTo(client, 'd')).toEqual([{ n: 1 }, { n: 3 }, { marker: 'd' }]);
    client.close();
  });
});
