import { Redis } from 'ioredis';
import { BusTransport } from '../../src/bus/bus-transport.js';
import { ClientRouter } from '../../src/bus/client-router.js';
import { parseEventId } from '../../src/bus/event-id.js';
import { commandsBetween, commandsRun } from '../support/command-stats.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import { RawSseClient } from '../support/sse-client.js';
import { type TestApp, startApp } from '../support/test-app.js';
import { expectResumesAsStayed, given } from '../support/topic-streams.js';
import { waitFor } from '../support/wait-for.js';

const PREFIX = 'projection';

describe("each instance's projection of the memberships (Redis)", () => {
  let redis: RedisServer;
  let admin: Redis;
  const apps: TestApp[] = [];
  const clients: RawSseClient[] = [];
  // Presence refreshes rarely, so that what is counted is what the streams cost.
  const start = async () => {
    const app = await startApp({
      redisUrl: redis.url,
      redisKeyPrefix: PREFIX,
      presenceTtlMs: 600_000,
    });
    apps.push(app);
    return app;
  };
  const open = (app: TestApp, user: string, headers = {}) => {
    const client = new RawSseClient(`${app.url}/orders/events?topic=base`, {
      'x-user': user,
      ...headers,
    });
    clients.push(client);
    return client;
  };
  /** A broadcast every instance has read once `seen` have it, and all that came before. */
  const marker = async (n: number, ...seen: RawSseClient[]) => {
    const id = await apps[0].bus.publish({ marker: n });
    await waitFor(() => apps.every((app) => app.bus.position() === id), 'every reader to read it');
    await Promise.all(
      seen.map((client) => client.waitForEvent((e) => e.data === `{"marker":${n}}`, `marker ${n}`)),
    );
  };

  beforeAll(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
    await start();
  });
  afterEach(() => clients.splice(0).forEach((client) => client.close()));
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    admin?.disconnect();
    await redis?.stop();
  });

  it('gives an instance started after the changes every membership, and resumes there exactly', async () => {
    const [a] = apps;
    const stayed = open(a, 'dave');
    await stayed.waitForEvents(1);
    const ids = [stayed.events[0].id!];
    ids.push(await a.bus.join('dave', 't'));
    ids.push(await a.bus.publish({ n: 1 }, { topic: 't' }));
    ids.push(await a.bus.leave('dave', ['t', 'base']));
    ids.push(await a.bus.publish({ n: 2 }, { topic: 't' }));
    ids.push(await a.bus.join('dave', 't'));
    ids.push(await a.bus.publish({ n: 3 }, { topic: 't' }));
    await marker(1, stayed);
    expect(given(stayed)).toEqual([
      'topics {"topics":["base","t"]}',
      'message {"n":1}',
      'topics {"topics":[]}',
      'topics {"topics":["t"]}',
      'message {"n":3}',
      'message {"marker":1}',
    ]);

    const late = await start();
    await expectResumesAsStayed(stayed, ids, (_, id) =>
      open(late, 'dave', { 'last-event-id': id }),
    );
    const fresh = open(late, 'dave');
    await fresh.waitForEvents(1);
    await a.bus.publish({ n: 4 }, { topic: 'base' });
    await a.bus.publish({ n: 5 }, { topic: 't' });
    await marker(2, fresh);
    expect(given(fresh)).toEqual(['message {"n":5}', 'message {"marker":2}']);
  });

  it('opens and resumes the streams of a client with a membership without a command', async () => {
    const [a, b] = apps;
    const change = await a.bus.join('erin', 'x');
    const tabs = [open(a, 'erin')];
    await tabs[0].waitForEvents(1);
    await marker(3, ...tabs);
    // The commands 20 streams of `clientId` cost, but the readers' blocking reads.
    const commandsOf20 = async (clientId: string) => {
      const before = await commandsRun(admin);
      const opened = Array.from({ length: 20 }, (_, i) =>
        open(i % 2 ? a : b, clientId, i % 4 < 2 ? { 'last-event-id': change } : {}),
      );
      await Promise.all(opened.map((tab) => tab.waitForEvents(1)));
      return { opened, commands: commandsBetween(before, await commandsRun(admin), ['xread']) };
    };
    // A client without a membership: what opening a stream costs anyway (the client gate's check).
    const without = await commandsOf20('frank');
    const withMembership = await commandsOf20('erin');
    // A membership read per stream would be 20 more at least; stray periodic commands (presence,
    // upkeep) fall in either window, more of them on a loaded machine.
    expect(Math.abs(withMembership.commands - without.commands)).toBeLessThan(10);
    tabs.push(...withMembership.opened);
    await a.bus.publish({ on: 'x' }, { topic: 'x' });
    await marker(4, ...tabs);
    for (const tab of tabs) expect(given(tab)).toContain('message {"on":"x"}');
    without.opened.forEach((tab) => tab.close());
  });

  it('forgets, on every instance, the memberships unused for their time to live, but those with streams', async () => {
    const [a, b] = apps;
    await a.bus.join('old', 'o');
    await a.bus.join('kept', 'k');
    const keeper = open(b, 'kept');
    await keeper.waitForEvents(1);
    // As if both had gone unused for their time to live; then what the retention job does.
    await admin.zadd(`{${PREFIX}}:members:used`, 0, 'old', 0, 'kept');
    await b.app.get(BusTransport).keepMemberships(b.app.get(ClientRouter).clientIds());
    // The next change forgets the unused ones.
    await a.bus.join('someone', 'z');
    expect((await admin.hkeys(`{${PREFIX}}:members`)).sort()).not.toContain('old');
    expect(await admin.hexists(`{${PREFIX}}:members`, 'kept')).toBe(1);
    await marker(5);
    const [old, kept] = [open(b, 'old'), open(a, 'kept')];
    await Promise.all([old.waitForEvents(1), kept.waitForEvents(1)]);
    await a.bus.publish({ on: 'o' }, { topic: 'o' });
    await a.bus.publish({ on: 'k' }, { topic: 'k' });
    await marker(6, old, kept);
    expect(given(old)).toEqual(['message {"marker":6}']);
    expect(given(kept)).toEqual(['message {"on":"k"}', 'message {"marker":6}']);
  });

  it('takes the memberships anew from Redis when the log lost what was read from it', async () => {
    await apps[0].bus.join('fay', 'f');
    const epochs = apps.map((app) => parseEventId(app.bus.position())!.epoch);
    // Redis comes back empty: every connection drops, and the readers find a new epoch.
    await admin.flushall();
    await admin.call('CLIENT', 'KILL', 'TYPE', 'normal');
    await waitFor(
      () => apps.every((app, i) => parseEventId(app.bus.position())!.epoch !== epochs[i]),
      'every reader to read the new epoch',
    );
    const tabs = apps.map((app) => open(app, 'fay'));
    await Promise.all(tabs.map((tab) => tab.waitForEvents(1)));
    await apps[0].bus.publish({ on: 'f' }, { topic: 'f' });
    await marker(7, ...tabs);
    for (const tab of tabs) expect(given(tab)).toEqual(['message {"marker":7}']);
  });
});
