import { Presence } from '../../src/index.js';
import { getPresence, streamOf } from '../support/presence.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import type { RawSseClient } from '../support/sse-client.js';
import { type TestApp, startApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

const SECRET = 'presence-test-secret-0123456789';
const TOKEN = 'presence-publish-token';
/** Changes show within a third of it; long enough that a busy machine's stalls expire nobody. */
const TTL_MS = 1500;

describe('presence across two instances sharing Redis', () => {
  let redis: RedisServer;
  let a: TestApp;
  let b: TestApp;
  let open: RawSseClient[] = [];
  const stream = async (app: TestApp, sub: string, topics?: string[]) => {
    const client = await streamOf(app.url, SECRET, sub, topics);
    open.push(client);
    return client;
  };
  const counted = async (app: TestApp, clients: number, streams: number) => {
    const presence = app.app.get(Presence);
    await waitFor(async () => {
      const count = await presence.count();
      return count.clients === clients && count.streams === streams;
    }, `${clients} clients and ${streams} streams in presence`);
  };
  beforeAll(async () => {
    redis = await startRedis();
    const options = {
      redisUrl: redis.url,
      redisKeyPrefix: 'presence',
      jwtSecret: SECRET,
      publishToken: TOKEN,
      presenceTtlMs: TTL_MS,
    };
    a = await startApp(options);
    b = await startApp(options);
  });
  afterEach(async () => {
    open.forEach((client) => client.close());
    open = [];
    await counted(a, 0, 0);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await redis?.stop();
  });

  it('counts the clients and streams of both instances, per client and per topic, and lets them go', async () => {
    const [aliceOnTopics] = [
      await stream(a, 'alice', ['a', 'b']),
      await stream(a, 'alice'),
      await stream(b, 'alice', ['a']),
    ];
    const bob = await stream(b, 'bob', ['a']);
    await stream(a, 'carol');
    await counted(a, 3, 5);
    for (const presence of [a.app.get(Presence), b.app.get(Presence)]) {
      expect(await presence.count()).toEqual({ clients: 3, streams: 5 });
      expect(await presence.client('alice')).toEqual({ online: true, streams: 3 });
      expect(await presence.client('dave')).toEqual({ online: false, streams: 0 });
      expect([await presence.isOnline('bob'), await presence.isOnline('dave')]).toEqual([
        true,
        false,
      ]);
      expect((await presence.clientsOn('a')).sort()).toEqual(['alice', 'bob']);
      expect(await presence.clientsOn('b')).toEqual(['alice']);
      expect(await presence.clientsOn('a', 1)).toHaveLength(1);
      expect(await presence.clientsOn('nothing')).toEqual([]);
    }

    aliceOnTopics.close();
    bob.close();
    await counted(b, 2, 3);
    const presence = b.app.get(Presence);
    expect(await presence.client('alice')).toEqual({ online: true, streams: 2 });
    expect(await presence.isOnline('bob')).toBe(false);
    expect(await presence.clientsOn('a')).toEqual(['alice']);
    expect(await presence.clientsOn('b')).toEqual([]);
  });

  describe('GET /sse/presence', () => {
    const get = (query: string) => getPresence(b.url, query, TOKEN);

    it('answers the count, one client, or the clients on a topic', async () => {
      await stream(a, 'erin', ['news']);
      await stream(a, 'erin');
      await stream(b, 'fred', ['news', 'sport']);
      await counted(b, 2, 3);
      expect(await get('')).toEqual({ status: 200, body: { clients: 2, streams: 3 } });
      expect(await get('?clientId=erin')).toEqual({
        status: 200,
        body: { online: true, streams: 2 },
      });
      expect(await get('?clientId=nobody')).toEqual({
        status: 200,
        body: { online: false, streams: 0 },
      });
      const news = await get('?topic=news');
      expect(news.status).toBe(200);
      expect((news.body.clients as string[]).sort()).toEqual(['erin', 'fred']);
      expect(await get('?topic=sport')).toEqual({ status: 200, body: { clients: ['fred'] } });
    });

    it.each([
      ['no token', undefined],
      ['a wrong token', 'presence-publish-tokeN'],
    ])('answers 401 for %s', async (_, token) => {
      const { status, body } = await getPresence(b.url, '', token);
      expect(status).toBe(401);
      expect(body.message).toMatch(/publish token/);
    });

    it.each([
      ['a bad topic name', '?topic=a%20b', /topic "a b" must be 1 to 128/],
      ['an empty topic', '?topic=', /topic "" must be/],
      ['an empty client id', '?clientId=', /clientId: a client id must be 1 to 256/],
      ['a client id with a newline', '?clientId=a%0Ab', /control characters/],
      ['a client id too long', `?clientId=${'x'.repeat(300)}`, /1 to 256/],
      ['both parameters', '?clientId=x&topic=y', /clientId or topic, not both/],
      ['a repeated topic', '?topic=a&topic=b', /topic must be given once/],
      ['a repeated client id', '?clientId=a&clientId=a', /clientId must be given once/],
      ['an unknown parameter', '?topic=a&limit=5', /Unknown parameter\(s\): limit/],
    ])('answers 400 for %s, saying what is wrong', async (_, query, message) => {
      const { status, body } = await get(query);
      expect(status).toBe(400);
      expect(body.message).toMatch(message);
    });
  });
});

describe('presence while Redis is away', () => {
  let redis: RedisServer;
  let app: TestApp;
  beforeAll(async () => {
    redis = await startRedis();
    app = await startApp({
      redisUrl: redis.url,
      jwtSecret: SECRET,
      publishToken: TOKEN,
      presenceTtlMs: TTL_MS,
    });
  });
  afterAll(async () => {
    await app?.close();
    await redis?.stop();
  });

  it('answers 503, then counts the streams again in a Redis that came back empty', async () => {
    const presence = app.app.get(Presence);
    const client = await streamOf(app.url, SECRET, 'hugo', ['t']);
    await waitFor(async () => await presence.isOnline('hugo'), 'hugo in presence');
    redis.signal('SIGKILL');
    await waitFor(() => !app.bus.health().writing, 'the outage to be noticed');
    const { status, body } = await getPresence(app.url, '', TOKEN);
    expect(status).toBe(503);
    expect(body.message).toMatch(/Presence unavailable/);
    await redis.restart();
    const onTopic = async () => (await getPresence(app.url, '?topic=t', TOKEN)).body.clients;
    await waitFor(
      async () => JSON.stringify(await onTopic()) === '["hugo"]',
      'hugo back in presence',
    );
    expect(await presence.count()).toEqual({ clients: 1, streams: 1 });
    client.close();
  });
});

describe('presence on the embedded bus', () => {
  let app: TestApp;
  beforeAll(async () => (app = await startApp({ jwtSecret: SECRET, publishToken: TOKEN })));
  afterAll(() => app.close());

  it('answers from the open streams of the instance at once', async () => {
    const presence = app.app.get(Presence);
    const first = await streamOf(app.url, SECRET, 'gail', ['t']);
    const second = await streamOf(app.url, SECRET, 'gail');
    expect(await presence.count()).toEqual({ clients: 1, streams: 2 });
    expect(await getPresence(app.url, '?topic=t', TOKEN)).toEqual({
      status: 200,
      body: { clients: ['gail'] },
    });
    first.close();
    second.close();
    await waitFor(async () => !(await presence.isOnline('gail')), 'gail to leave');
    expect(await presence.count()).toEqual({ clients: 0, streams: 0 });
  });
});

describe('GET /sse/presence without SSE_PUBLISH_TOKEN', () => {
  let app: TestApp;
  beforeAll(async () => (app = await startApp()));
  afterAll(() => app.close());

  it('is off: 404', async () => {
    const { status, body } = await getPresence(app.url, '', 'anything');
    expect(status).toBe(404);
    expect(body.statusCode).toBe(404);
  });
});
