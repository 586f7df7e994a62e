import { comparePositions } from '../../src/bus/log-position.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import type { RawSseClient } from '../support/sse-client.js';
import { type TestApp, startApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';
import {
  EVENT_ID,
  type Via,
  connected,
  dataOf,
  epochOf,
  framesOf,
  openStream,
  received,
} from './support/clients.js';
import { HEARTBEAT_MS, WAIT_MS } from './support/fault-config.js';
import { Ledger, type Publish, cursorOf, CLEAN } from './support/ledger.js';
import { RedisProxy } from './support/redis-proxy.js';
import { JWT_SECRET } from './support/tokens.js';

const via: Via[] = ['header', 'query'];

/** A client's view after a reset: the frame, parsed. */
async function expectReset(client: RawSseClient, reasons: string[]) {
  const reset = await client.waitForEvent((event) => event.event === 'reset', 'a reset');
  expect(reasons).toContain(JSON.parse(reset.data!).reason);
  expect(reset.id).toMatch(EVENT_ID);
  return reset;
}

describe('resume across instances', () => {
  let redis: RedisServer;
  /** B reaches Redis through a proxy, so a test can slow its reader down. */
  let proxy: RedisProxy;
  let a: TestApp;
  let b: TestApp;
  let open: RawSseClient[] = [];
  const options = {
    redisKeyPrefix: 'faults-resume',
    jwtSecret: JWT_SECRET,
    heartbeatMs: HEARTBEAT_MS,
  };
  const stream = async (...args: Parameters<typeof openStream>) => {
    const client = await openStream(...args);
    open.push(client);
    return client;
  };
  const onA: Publish = (data, options) => a.bus.publish(data, options);
  const onB: Publish = (data, options) => b.bus.publish(data, options);

  beforeAll(async () => {
    redis = await startRedis();
    proxy = await RedisProxy.start(redis.port);
    a = await startApp({ ...options, redisUrl: redis.url });
    b = await startApp({ ...options, redisUrl: proxy.url });
  });
  afterEach(() => {
    proxy.release('reader');
    open.forEach((client) => client.close());
    open = [];
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await proxy?.close();
    await redis?.stop();
  });

  it.each(via)(
    'gives a client that moves from A to B (Last-Event-ID as %s) what it missed and may see, once, in order, before live ones',
    async (how) => {
      const ledger = new Ledger(`moved-${how}`);
      const first = await stream(a.url, 'alice');
      const since = (await connected(first)).id!;
      const seen = await ledger.publish(onA);
      await received(first, seen.data);
      first.close();

      // Missed: broadcasts, hers, others', and hers among others; from both instances.
      const missed = [
        await ledger.publish(onA),
        await ledger.publish(onB, ['alice']),
        await ledger.publish(onA, ['bob']),
        await ledger.publish(onB, ['bob', 'alice', 'carol']),
        await ledger.publish(onA, undefined, 'news'),
        await ledger.publish(onB, ['carol'], 'news'),
        await ledger.publish(onB),
      ];
      const second = await stream(b.url, 'alice', first.lastId, how);
      const live = [
        await ledger.publish(onB),
        await ledger.publish(onA, ['alice'], 'news'),
        await ledger.publish(onA, ['bob']),
        await ledger.publish(onB),
      ];
      await received(second, live[3].data);
      const reopened = second.events.find((event) => event.event === 'connected')!;
      // Its own Last-Event-ID stands until the replay moves it on.
      expect(reopened.id).toBeUndefined();

      const expected = [seen, ...missed, ...live].filter(
        (m) => m.to === null || m.to.includes('alice'),
      );
      expect(dataOf(first, second)).toEqual(expected.map((m) => m.data));
      const audit = ledger.audit('alice', framesOf(first, second), since);
      expect(audit).toMatchObject(CLEAN);
      for (const frame of framesOf(second).filter((each) => each.id !== undefined)) {
        expect(frame.id).toMatch(EVENT_ID);
      }
    },
  );

  it('replays a long history page by page while messages keep coming, with no gap or repeat at the seam', async () => {
    const ledger = new Ledger('seam');
    const first = await stream(a.url, 'dave');
    const since = (await connected(first)).id!;
    first.close();
    // More than a history page (500), a third of them for someone else.
    for (let i = 0; i < 1_200; i++) {
      await ledger.publish(i % 2 ? onA : onB, i % 3 ? undefined : ['erin']);
    }
    const second = await stream(b.url, 'dave', since);
    // Live messages from the first byte of the replay on.
    let publishing = true;
    const publisher = (async () => {
      for (let i = 0; publishing || i < 50; i++) {
        await ledger.publish(i % 2 ? onA : onB, i % 4 ? undefined : ['dave']);
      }
    })();
    await waitFor(() => dataOf(second).length >= 800, 'the replay', WAIT_MS);
    publishing = false;
    await publisher;
    const last = await ledger.publish(onA);
    await received(second, last.data, WAIT_MS);
    const audit = ledger.audit('dave', framesOf(second), since);
    expect(audit).toMatchObject(CLEAN);
    expect(audit.received).toBe(
      ledger.sent.filter((m) => m.to === null || m.to.includes('dave')).length,
    );
  });

  it('does not repeat what the client has when it resumes on an instance whose reader is behind it', async () => {
    const ledger = new Ledger('behind');
    const first = await stream(a.url, 'frank');
    const since = (await connected(first)).id!;
    // B's reader gets nothing from Redis for a while: A's client gets ahead of B.
    proxy.hold('reader');
    const ahead = await ledger.publish(onA);
    await received(first, ahead.data);
    first.close();
    expect(comparePositions(cursorOf(b.bus.position()), cursorOf(ahead.id))).toBeLessThan(0);
    const second = await stream(b.url, 'frank', first.lastId);
    await connected(second);
    // B's reader catches up, and reads what the client already has.
    proxy.release('reader');
    const after = await ledger.publish(onB);
    await received(second, after.data);
    expect(dataOf(second)).toEqual([after.data]);
    expect(ledger.audit('frank', framesOf(first, second), since)).toMatchObject({
      lost: 0,
      duplicated: 0,
      outOfOrder: 0,
      unexpected: 0,
    });
  });

  describe.each([
    ['a malformed id', 'malformed', () => 'not an id!'],
    ['an id too long to be one', 'malformed', () => `${'x'.repeat(17)}.1-0`],
    ['an id of an unknown epoch', 'epoch', () => 'unknown0.1700000000000-0'],
    ['an id ahead of the top', 'ahead', () => `${epochOf(a.bus.position())}.99999999999999-0`],
  ])('a client resuming from %s', (_, reason, lastEventId) => {
    it.each(via)(
      'gets one reset (Last-Event-ID as %s) with an id to continue from, then live messages',
      async (how) => {
        const ledger = new Ledger(`reset-${reason}-${how}`);
        const client = await stream(b.url, 'gina', lastEventId(), how);
        const reset = await expectReset(client, [reason]);
        const live = await ledger.publish(onA);
        await received(client, live.data);
        expect(client.events.filter((event) => event.event === 'reset')).toHaveLength(1);
        expect(dataOf(client)).toEqual([live.data]);

        // The reset's id is a cursor like any other: resuming from it misses nothing after it.
        client.close();
        const missed = await ledger.publish(onB);
        const again = await stream(a.url, 'gina', reset.id);
        await received(again, missed.data);
        expect(dataOf(again)).toEqual([live.data, missed.data]);
        expect(again.events.some((event) => event.event === 'reset')).toBe(false);
      },
    );
  });

  describe('with a short history (historyMaxLength 5)', () => {
    let c: TestApp;
    let d: TestApp;
    const short = { ...options, redisKeyPrefix: 'faults-expiry', historyMaxLength: 5 };
    beforeAll(async () => {
      c = await startApp({ ...short, redisUrl: redis.url });
      d = await startApp({ ...short, redisUrl: redis.url });
    });
    afterAll(() => Promise.all([c?.close(), d?.close()]));

    it('resets a client whose cursor has left the history, and replays one whose cursor has not', async () => {
      const ledger = new Ledger('expiry');
      const onC: Publish = (data, opts) => c.bus.publish(data, opts);
      const old = await stream(c.url, 'hank');
      await connected(old);
      const oldest = await ledger.publish(onC);
      await received(old, oldest.data);
      old.close();
      // `MAXLEN ~` trims whole stream nodes (100 entries by default): go well past one.
      for (let i = 0; i < 300; i++) await ledger.publish(onC);
      const recent = ledger.sent[ledger.sent.length - 4];

      const expired = await stream(d.url, 'hank', oldest.id);
      const reset = await expectReset(expired, ['expired']);
      const fresh = await stream(d.url, 'hank', recent.id);
      const live = await ledger.publish(onC);
      await Promise.all([received(expired, live.data), received(fresh, live.data)]);
      expect(dataOf(expired)).toEqual([live.data]);
      expect(dataOf(fresh)).toEqual(ledger.sent.slice(-4).map((m) => m.data));
      expect(epochOf(reset.id!)).toBe(epochOf(oldest.id!));
    });
  });

  // Last: it replaces the Redis every test above shares.
  it('resets a client whose cursor is from before Redis lost its data, then gives it live messages', async () => {
    const ledger = new Ledger('lost');
    const first = await stream(a.url, 'ivan');
    await connected(first);
    const before = await ledger.publish(onB);
    await received(first, before.data);
    first.close();
    const oldEpoch = epochOf(before.id!);

    redis.signal('SIGKILL');
    await redis.restart();
    // Publishing makes the new epoch; wait for B to have read it, so the reset can name it.
    const opening = await ledger.publish(onA);
    expect(opening.error).toBeUndefined();
    await waitFor(() => epochOf(b.bus.position()) !== oldEpoch, 'B to read the new log', WAIT_MS);

    const second = await stream(b.url, 'ivan', first.lastId);
    const reset = await expectReset(second, ['epoch', 'lost']);
    expect(epochOf(reset.id!)).toBe(epochOf(opening.id!));
    const live = await ledger.publish(onA);
    await received(second, live.data);
    expect(dataOf(second)).toEqual([live.data]);
    expect(second.events.filter((event) => event.event === 'reset')).toHaveLength(1);
  });
});
