import { postTopicChange } from '../support/publish.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import { type RawSseClient } from '../support/sse-client.js';
import { type TestApp, startApp } from '../support/test-app.js';
import {
  broadcastMarker,
  expectResumesAsStayed,
  given,
  streamOpener,
} from '../support/topic-streams.js';

const TOKEN = 'p-token';

describe.each(['embedded', 'redis'] as const)('topics joined and left at run time (%s)', (bus) => {
  let redis: RedisServer | undefined;
  let a: TestApp;
  let b: TestApp;
  const clients: RawSseClient[] = [];
  const open = streamOpener(clients);
  const marker = (n: number, ...seen: RawSseClient[]) => broadcastMarker(b.bus, n, ...seen);

  beforeAll(async () => {
    if (bus === 'embedded') {
      a = b = await startApp({ publishToken: TOKEN });
      return;
    }
    redis = await startRedis();
    const options = { redisUrl: redis.url, redisKeyPrefix: 'membership', publishToken: TOKEN };
    [a, b] = await Promise.all([startApp(options), startApp(options)]);
  });
  afterEach(() => clients.splice(0).forEach((client) => client.close()));
  afterAll(async () => {
    await Promise.all([a?.close(), b !== a && b?.close()]);
    await redis?.stop();
  });

  it("moves every open stream of the client, on every instance, and no one else's", async () => {
    const tabs = [open(a, 'alice'), open(a, 'alice'), open(b, 'alice')];
    const bob = open(b, 'bob', 'topic=base&topic=news');
    await Promise.all([...tabs, bob].map((client) => client.waitForEvents(1)));
    await a.bus.publish({ n: 0 }, { topic: 'news' });
    await a.bus.join('alice', 'news');
    await b.bus.publish({ n: 1 }, { topic: 'news' });
    expect((await postTopicChange(b.url, TOKEN, 'alice', { leave: ['news'] })).status).toBe(202);
    await a.bus.publish({ n: 2 }, { topic: 'news' });
    await marker(1, ...tabs, bob);
    for (const tab of tabs) {
      expect(given(tab)).toEqual([
        'topics {"topics":["base","news"]}',
        'message {"n":1}',
        'topics {"topics":["base"]}',
        'message {"marker":1}',
      ]);
    }
    expect(given(bob)).toEqual([
      'message {"n":0}',
      'message {"n":1}',
      'message {"n":2}',
      'message {"marker":1}',
    ]);
  });

  it('starts a later stream with (asked ∪ joined) − left: a leave wins over the URL', async () => {
    await a.bus.changeTopics('carol', { join: ['x'], leave: ['base'] });
    const tab = open(b, 'carol', 'topic=base&topic=y');
    await tab.waitForEvents(1);
    for (const topic of ['base', 'x', 'y']) await a.bus.publish({ topic }, { topic });
    await a.bus.join('carol', 'base');
    await a.bus.publish({ topic: 'base' }, { topic: 'base' });
    await marker(2, tab);
    expect(given(tab)).toEqual([
      'message {"topic":"x"}',
      'message {"topic":"y"}',
      'topics {"topics":["base","x","y"]}',
      'message {"topic":"base"}',
      'message {"marker":2}',
    ]);
  });

  it('resumes from before and after each change exactly as a stream that stayed', async () => {
    const stayed = open(a, 'dave');
    await stayed.waitForEvents(1);
    const steps: (() => Promise<string>)[] = [
      () => a.bus.publish({ n: 0 }, { topic: 't' }),
      () => a.bus.join('dave', 't'),
      () => b.bus.publish({ n: 1 }, { topic: 't' }),
      () => b.bus.publish({ n: 2 }, { topic: 'base' }),
      () => b.bus.leave('dave', ['t', 'base']),
      () => a.bus.publish({ n: 3 }, { topic: 't' }),
      () => a.bus.publish({ n: 4 }, { clientId: 'dave' }),
      () => b.bus.join('dave', 't'),
      () => a.bus.publish({ n: 5 }, { topic: 't' }),
    ];
    const ids = [stayed.events[0].id!];
    for (const step of steps) ids.push(await step());
    await marker(3, stayed);
    expect(given(stayed)).toEqual([
      'topics {"topics":["base","t"]}',
      'message {"n":1}',
      'message {"n":2}',
      'topics {"topics":[]}',
      'message {"n":4}',
      'topics {"topics":["t"]}',
      'message {"n":5}',
      'message {"marker":3}',
    ]);
    // From every id the bus gave out on the way, on either instance: the rest of the same stream.
    await expectResumesAsStayed(stayed, ids, (i, id) =>
      open(i % 2 ? a : b, 'dave', 'topic=base', { 'last-event-id': id }),
    );
  });

  it('answers the route: 202, 400 naming what is wrong, 401, 415', async () => {
    const cases: [unknown, number, RegExp?][] = [
      [{ join: 'a', leave: ['b'] }, 202],
      [{ join: ['a'], leave: ['a'] }, 400, /both joined and left/],
      [{}, 400, /at least one topic/],
      [{ join: ['bad topic'] }, 400, /join: topic "bad topic"/],
      [{ leave: [1] }, 400, /"leave" must be a string or an array of strings/],
      [{ join: 'a', other: 1 }, 400, /Unknown field\(s\): other/],
      [[], 400, /JSON object/],
    ];
    for (const [body, status, message] of cases) {
      const answer = await postTopicChange(a.url, TOKEN, 'erin', body);
      expect(answer.status).toBe(status);
      if (message) expect(answer.body.message).toMatch(message);
    }
    expect((await postTopicChange(a.url, 'wrong', 'erin', { join: 'a' })).status).toBe(401);
    const form = await fetch(`${a.url}/sse/clients/erin/topics`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', authorization: `Bearer ${TOKEN}` },
      body: '{"join":"a"}',
    });
    expect(form.status).toBe(415);
  });
});

describe.each(['fastify', 'express'] as const)(
  'the topics route without a publish token (%s)',
  (platform) => {
    let app: TestApp;
    beforeAll(async () => (app = await startApp({}, { platform })));
    afterAll(() => app.close());

    it('is not there: 404 naming the whole path, as any unknown route', async () => {
      const answer = await postTopicChange(app.url, TOKEN, 'alice', { join: ['a'] });
      expect(answer).toEqual({
        status: 404,
        body: {
          statusCode: 404,
          error: 'Not Found',
          message: 'Cannot POST /sse/clients/alice/topics',
        },
      });
    });
  },
);
