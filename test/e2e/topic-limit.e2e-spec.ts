import { TooManyTopicsError } from '../../src/errors/too-many-topics.error.js';
import { postTopicChange } from '../support/publish.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import { RawSseClient } from '../support/sse-client.js';
import { type TestApp, startApp } from '../support/test-app.js';
import { given } from '../support/topic-streams.js';

const TOKEN = 'p-token';
const LIMIT = 3;
const refusal = (topics: number) =>
  `The change would leave the client joined to ${topics} topics, over the limit of ${LIMIT} per client`;

describe.each(['embedded', 'redis'] as const)(
  'the topics a client may be joined to (%s)',
  (bus) => {
    let redis: RedisServer | undefined;
    let a: TestApp;
    let b: TestApp;
    const clients: RawSseClient[] = [];
    const open = (app: TestApp, user: string) => {
      const client = new RawSseClient(`${app.url}/orders/events?topic=base`, { 'x-user': user });
      clients.push(client);
      return client;
    };

    beforeAll(async () => {
      const options = { publishToken: TOKEN, maxTopicsPerClient: LIMIT };
      if (bus === 'embedded') {
        a = b = await startApp(options);
        return;
      }
      redis = await startRedis();
      const shared = { ...options, redisUrl: redis.url, redisKeyPrefix: 'topic-limit' };
      [a, b] = await Promise.all([startApp(shared), startApp(shared)]);
    });
    afterEach(() => clients.splice(0).forEach((client) => client.close()));
    afterAll(async () => {
      await Promise.all([a?.close(), b !== a && b?.close()]);
      await redis?.stop();
    });

    it('refuses a join past the limit whole, counted on the membership the change finds', async () => {
      const tab = open(a, 'alice');
      await tab.waitForEvents(1);
      await a.bus.join('alice', ['t1', 't2']);
      // From the other instance at once: through Redis, what counts is the membership kept with
      // the changes, whatever this instance has read of them yet.
      const refused = b.bus.join('alice', ['t3', 't4']);
      await expect(refused).rejects.toThrow(TooManyTopicsError);
      await expect(refused).rejects.toMatchObject({
        message: refusal(4),
        topics: 4,
        maxTopicsPerClient: LIMIT,
      });
      await b.bus.join('alice', 't3');
      await a.bus.changeTopics('alice', { join: ['t4'], leave: ['t1'] });
      await a.bus.leave('alice', 't2');
      await tab.waitForEvents(5);
      expect(given(tab)).toEqual([
        'topics {"topics":["base","t1","t2"]}',
        'topics {"topics":["base","t1","t2","t3"]}',
        'topics {"topics":["base","t2","t3","t4"]}',
        'topics {"topics":["base","t3","t4"]}',
      ]);
    });

    it('answers 409 naming the limit on the route; each client has its own', async () => {
      const join = (clientId: string, topics: string[]) =>
        postTopicChange(b.url, TOKEN, clientId, { join: topics });
      expect((await join('bob', ['x1', 'x2', 'x3'])).status).toBe(202);
      expect(await join('bob', ['x4'])).toEqual({
        status: 409,
        body: { statusCode: 409, error: 'Conflict', message: refusal(4) },
      });
      expect((await join('carol', ['x1', 'x2', 'x3'])).status).toBe(202);
      expect((await postTopicChange(a.url, TOKEN, 'bob', { leave: ['x1'] })).status).toBe(202);
      expect((await join('bob', ['x4'])).status).toBe(202);
    });

    it('lets exactly as many joins through as fit when they come at once', async () => {
      const topics = ['p', 'q', 'r', 's', 'u', 'v'];
      const settled = await Promise.allSettled(
        topics.map((topic, i) => (i % 2 ? a : b).bus.join('dave', topic)),
      );
      const refused = settled.filter((outcome) => outcome.status === 'rejected');
      expect(settled.length - refused.length).toBe(LIMIT);
      for (const outcome of refused) {
        expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(TooManyTopicsError);
      }
    });
  },
);
