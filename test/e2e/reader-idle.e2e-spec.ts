import { Redis } from 'ioredis';
import { firstValueFrom, filter } from 'rxjs';
import { parseEventId } from '../../src/bus/event-id.js';
import { comparePositions } from '../../src/bus/log-position.js';
import { commandsRun } from '../support/command-stats.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import type { RawSseClient } from '../support/sse-client.js';
import { type TestApp, startApp } from '../support/test-app.js';
import { given, streamOpener } from '../support/topic-streams.js';
import { waitFor } from '../support/wait-for.js';

const IDLE_MS = 50;

describe('an instance with nothing to read for stops reading the log (Redis)', () => {
  let redis: RedisServer;
  let admin: Redis;
  let app: TestApp;
  const clients: RawSseClient[] = [];
  const open = streamOpener(clients);
  /** The ids of the publishes since the last `sent.length = 0`. */
  const sent: string[] = [];
  const xreads = async () => (await commandsRun(admin)).get('xread') ?? 0;
  /** Publishes until a few publishes go by with no `XREAD`: the reader has stopped. */
  const stopped = () =>
    waitFor(async () => {
      const before = await xreads();
      for (let i = 0; i < 5; i++) sent.push(await app.bus.publish({ filler: i }));
      return (await xreads()) === before;
    }, 'the reader to stop');
  const before = (id: string, other: string) =>
    comparePositions(parseEventId(id)!, parseEventId(other)!) < 0;

  beforeAll(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
    app = await startApp({
      redisUrl: redis.url,
      redisKeyPrefix: 'reader-idle',
      readerIdleMs: IDLE_MS,
      presenceTtlMs: 600_000,
    });
  });
  afterEach(() => clients.splice(0).forEach((client) => client.close()));
  afterAll(async () => {
    await app?.close();
    admin?.disconnect();
    await redis?.stop();
  });

  it('reads nothing back while no stream is open, and says it is healthy', async () => {
    await stopped();
    const idle = await xreads();
    const last = await app.bus.publish({ while: 'stopped' });
    expect(await xreads()).toBe(idle);
    expect(before(app.bus.position(), last)).toBe(true);
    expect(app.bus.health()).toMatchObject({ reading: true, writing: true });
  });

  it('starts a stream where the log is when it opens, with the memberships changed meanwhile, and nothing from before', async () => {
    await stopped();
    await app.bus.join('alice', 'news');
    await app.bus.publish({ n: 0 }, { topic: 'news' });
    const alice = open(app, 'alice');
    await alice.waitForEvents(1);
    await app.bus.publish({ n: 1 }, { topic: 'news' });
    await alice.waitForEvent((e) => e.data === '{"n":1}', 'the message after the stream opened');
    expect(given(alice)).toEqual(['message {"n":1}']);
  });

  it('resumes a stream from before the stop with exactly what it missed, from the log', async () => {
    const first = open(app, 'bob');
    await first.waitForEvents(1);
    const cursor = await app.bus.publish({ n: 'seen' });
    await first.waitForEvent((e) => e.id === cursor, 'the message before the stop');
    first.close();
    sent.length = 0;
    await stopped();
    sent.push(await app.bus.publish({ n: 'missed' }, { topic: 'base' }));
    const resumed = open(app, 'bob', 'topic=base', { 'last-event-id': cursor });
    await resumed.waitForEvent((e) => e.id === sent.at(-1), 'the missed message');
    sent.push(await app.bus.publish({ n: 'live' }, { topic: 'base' }));
    await resumed.waitForEvent((e) => e.id === sent.at(-1), 'the live message');
    const ids = resumed.events.filter((e) => e.event === undefined && e.id).map((e) => e.id);
    expect(ids).toEqual(sent);
  });

  it("reads again for a subscriber of the bus's events", async () => {
    await stopped();
    const read = firstValueFrom(
      app.bus.events$.pipe(filter((e) => e.kind === 'message' && e.data === '{"n":"wanted"}')),
    );
    const id = await app.bus.publish({ n: 'wanted' });
    expect((await read).id).toBe(id);
  });

  it('tells a Redis that stopped answering while it had stopped, and that it is back', async () => {
    await stopped();
    redis.signal('SIGSTOP');
    try {
      await waitFor(() => !app.bus.health().reading, 'reading to fail', 15_000);
    } finally {
      redis.signal('SIGCONT');
    }
    await waitFor(() => app.bus.health().reading, 'reading to pass', 15_000);
    const id = await app.bus.publish({ n: 'after' });
    const stream = open(app, 'carol', 'topic=base', { 'last-event-id': id });
    await stream.waitForEvents(1);
    const next = await app.bus.publish({ n: 'next' });
    await stream.waitForEvent((e) => e.id === next, 'the message after the thaw');
  });
});
