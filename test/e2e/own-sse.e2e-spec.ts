import { once } from 'node:events';
import { request } from 'node:http';
import { connect as connectHttp2 } from 'node:http2';
import { connect } from 'node:net';
import { EventSource } from 'eventsource';
import { StreamRegistry } from '../../src/sse/stream-registry.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import { RawSseClient } from '../support/sse-client.js';
import { type Platform, type TestApp, startApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

const EVENT_ID = /^[A-Za-z0-9_-]+\.\d+-\d+$/;

/** A stream of the app's own `@Sse()` endpoint, for `user`, on `topics`. */
function ownStream(
  baseUrl: string,
  user: string,
  { topics = ['orders'], lastEventId }: { topics?: string[]; lastEventId?: string } = {},
): RawSseClient {
  const query = new URLSearchParams(topics.map((topic) => ['topic', topic] as [string, string]));
  const headers: Record<string, string> = { 'x-user': user };
  if (lastEventId) headers['last-event-id'] = lastEventId;
  return new RawSseClient(`${baseUrl}/orders/events?${query}`, headers);
}

/** An EventSource that sends `headers` with every request, reconnections included. */
function eventSource(url: string, headers: Record<string, string>): EventSource {
  return new EventSource(url, {
    fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, ...headers } }),
  });
}

describe.each<Platform>(['fastify', 'express'])(
  "an app's own @Sse() endpoint on %s",
  (platform) => {
    let redis: RedisServer;
    let a: TestApp;
    let b: TestApp;
    let open: { close(): void }[] = [];
    const options = {
      redisKeyPrefix: `own-sse-${platform}`,
      heartbeatMs: 50,
      retryMs: 1000,
      reconnectJitterMs: 500,
      maxMessageBytes: 16 * 1024,
      maxBufferedBytes: 64 * 1024,
    };
    const track = <T extends { close(): void }>(client: T): T => {
      open.push(client);
      return client;
    };

    beforeAll(async () => {
      redis = await startRedis();
      a = await startApp({ ...options, redisUrl: redis.url }, { platform });
      b = await startApp({ ...options, redisUrl: redis.url }, { platform });
    });
    afterEach(() => {
      open.forEach((client) => client.close());
      open = [];
    });
    afterAll(async () => {
      await Promise.all([a?.close(), b?.close()]);
      await redis?.stop();
    });

    it('opens with connected, then what its client and topics may see from either instance, every id a bus id', async () => {
      const client = track(ownStream(a.url, 'alice', { topics: ['orders', 'news'] }));
      const [connected] = await client.waitForEvents(1);
      expect(client.status).toBe(200);
      expect(client.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(connected).toEqual({
        event: 'connected',
        id: a.bus.position(),
        retry: 1000,
        data: '{"clientId":"alice"}',
      });
      const sent = [
        [1, {}],
        [2, { clientId: 'alice' }],
        [3, { clientId: 'bob' }],
        [4, { topic: 'orders' }],
        [5, { topic: 'sport' }],
        [6, { clientId: 'alice', topic: ['sport', 'news'] }],
        [7, { clientId: 'bob', topic: 'orders' }],
        [8, { topic: ['orders', 'news'], event: 'changed' }],
      ] as const;
      const ids: string[] = [];
      for (const [n, publish] of sent) ids.push(await b.bus.publish(n, publish));
      await client.waitForEvent((event) => event.data === '8', 'the last message');
      expect(client.events.slice(1)).toEqual([
        { id: ids[0], data: '1' },
        { id: ids[1], data: '2' },
        { id: ids[3], data: '4' },
        { id: ids[5], data: '6' },
        { id: ids[7], event: 'changed', data: '8' },
      ]);
      // On the wire: no id that Nest numbered, heartbeats are bare comments.
      await waitFor(() => client.comments >= 2, 'two heartbeats');
      const wireIds = [...client.raw.matchAll(/^id: (.*)$/gm)].map((match) => match[1]);
      expect(wireIds.length).toBeGreaterThan(0);
      for (const id of wireIds) expect(id).toMatch(EVENT_ID);
      expect(client.raw).toMatch(/\n: ?\n\n/);
    });

    it('resumes on the other instance through EventSource: what was missed once, in order, then live, and no heartbeat in onmessage', async () => {
      const user = { 'x-user': 'carol' };
      const first = track(eventSource(`${a.url}/orders/events`, user));
      const got: { data: string; lastEventId: string }[] = [];
      first.onmessage = (event) => got.push(event);
      await new Promise((resolve) => first.addEventListener('connected', resolve, { once: true }));
      await a.bus.publish('seen', { clientId: 'carol' });
      await waitFor(() => got.length === 1, 'the first message');
      first.close();

      const missed = [
        await a.bus.publish('m1'),
        await b.bus.publish('not hers', { clientId: 'dave' }),
        await b.bus.publish('m2', { clientId: 'carol' }),
        await a.bus.publish('other topic', { topic: 'sport' }),
        await a.bus.publish('m3', { topic: 'orders' }),
      ];
      const second = track(
        eventSource(`${b.url}/orders/events`, { ...user, 'last-event-id': got[0].lastEventId }),
      );
      const resumed: { data: string; lastEventId: string }[] = [];
      second.onmessage = (event) => resumed.push(event);
      await waitFor(() => resumed.length === 3, 'what was missed');
      const live = await a.bus.publish('live', { clientId: 'carol' });
      await waitFor(() => resumed.length === 4, 'the live message');
      // Heartbeats went by meanwhile: none of them is a message.
      await new Promise((resolve) => setTimeout(resolve, 3 * options.heartbeatMs));
      expect(resumed.map((event) => JSON.parse(event.data))).toEqual(['m1', 'm2', 'm3', 'live']);
      expect(resumed.map((event) => event.lastEventId)).toEqual([
        missed[0],
        missed[2],
        missed[4],
        live,
      ]);
    });

    it('sends reset, with an id to continue from, when the history cannot serve the resume', async () => {
      const client = track(ownStream(b.url, 'erin', { lastEventId: 'otherEpoch.1-0' }));
      const reset = await client.waitForEvent((event) => event.event === 'reset', 'a reset');
      expect(JSON.parse(reset.data!)).toEqual({ reason: 'epoch' });
      expect(reset.id).toMatch(EVENT_ID);
      const live = await a.bus.publish('after', { clientId: 'erin' });
      await client.waitForEvent((event) => event.id === live, 'the live message');
      const garbage = track(ownStream(b.url, 'erin', { lastEventId: 'not an id' }));
      const [connected] = await garbage.waitForEvents(2);
      expect(connected.id).toMatch(EVENT_ID);
      expect(garbage.events[1]).toMatchObject({ event: 'reset', data: '{"reason":"malformed"}' });
    });

    it('answers 400 with a JSON message for a bad topic, before any stream byte', async () => {
      const response = await fetch(`${a.url}/orders/events?topic=has%20space`, {
        headers: { 'x-user': 'frank' },
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { message: string }).message).toMatch(
        /topic "has space" must be 1 to 128 of/,
      );
    });

    it('cuts off a client that stops reading, while one that reads gets everything', async () => {
      const streams = a.app.get(StreamRegistry);
      const reader = track(ownStream(a.url, 'reader', { topics: ['bulk'] }));
      await reader.waitForEvents(1);
      let cut = false;
      const stalled = connect({
        port: Number(new URL(a.url).port),
        host: '127.0.0.1',
        onread: { buffer: Buffer.alloc(1024), callback: () => false },
      });
      stalled.on('close', () => (cut = true)).on('error', () => undefined);
      stalled.write(
        'GET /orders/events?topic=bulk HTTP/1.1\r\nHost: x\r\nX-User: stalled\r\nAccept: text/event-stream\r\n\r\n',
      );
      track({ close: () => stalled.destroy() });
      await waitFor(() => streams.size === 2, 'the stalled stream to open');
      const data = 'x'.repeat(10_000);
      let published = 0;
      // Loopback buffers take a few megabytes before the server's own count starts.
      while (streams.size === 2 && published < 5_000) {
        await a.bus.publish(data, { topic: 'bulk' });
        published++;
      }
      await waitFor(() => streams.size === 1, 'the stalled client to be cut off');
      expect(published).toBeLessThan(5_000);
      await reader.waitForEvents(1 + published, 'every message', 30_000);
      expect(reader.ended).toBe(false);
      void cut;
    });

    it('leaves no subscription, stream, timer or listener behind after 1,000 connect/disconnect cycles', async () => {
      const server = a.app.getHttpServer();
      const streams = a.app.get(StreamRegistry);
      const listeners = () => server.listenerCount('request') + server.listenerCount('connection');
      const timers = () =>
        process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
      const connections = () =>
        new Promise<number>((resolve) =>
          server.getConnections((_: unknown, n: number) => resolve(n)),
        );
      // Other tests' idle keep-alive connections (fetch keeps a pool) may be open, or close meanwhile.
      const before = { listeners: listeners(), timers: timers(), connections: await connections() };
      const cycle = () =>
        new Promise<void>((resolve, reject) => {
          const req = request(
            `${a.url}/orders/events`,
            { headers: { 'x-user': 'cycler' } },
            (res) => {
              // Some leave at once, some after the first bytes.
              res.once('data', () => req.destroy());
              res.once('close', () => resolve());
            },
          );
          req.once('error', reject);
          req.end();
        });
      for (let round = 0; round < 100; round++) {
        await Promise.all(Array.from({ length: 10 }, cycle));
      }
      await waitFor(
        () => a.bus.subscriberCount === 0 && streams.size === 0,
        'every stream to be released',
      );
      await waitFor(async () => (await connections()) <= before.connections, 'sockets closed');
      await waitFor(() => timers() <= before.timers, 'the streams’ timers to be cleared');
      expect(listeners()).toBe(before.listeners);
    });

    it('ends its streams at shutdown with a closing event: a jittered retry, the last id, data', async () => {
      const c = await startApp({ ...options, redisUrl: redis.url }, { platform });
      const client = track(ownStream(c.url, 'grace'));
      await client.waitForEvents(1);
      const last = await a.bus.publish('before shutdown', { clientId: 'grace' });
      await client.waitForEvent((event) => event.id === last, 'the message');
      await c.close();
      await waitFor(() => client.ended, 'the stream to end');
      const final = client.events.at(-1)!;
      expect(final.id).toBe(last);
      expect(final.retry).toBeGreaterThanOrEqual(options.retryMs);
      expect(final.retry).toBeLessThanOrEqual(options.retryMs + options.reconnectJitterMs);
      expect(final.event).toBe('closing');
      expect(JSON.parse(final.data!)).toEqual({ retryMs: final.retry });
    });

    it('turns a browser away with a busy event past maxConnections, others with 503', async () => {
      const full = await startApp({ ...options, maxConnections: 1 }, { platform });
      try {
        const held = track(ownStream(full.url, 'held'));
        await held.waitForEvents(1);
        const browser = await ownStream(full.url, 'late').opened();
        await waitFor(() => browser.ended, 'the busy stream to end');
        expect(browser.status).toBe(200);
        const [busy] = browser.events;
        expect(busy.event).toBe('busy');
        expect(busy.id).toMatch(EVENT_ID);
        expect(busy.retry).toBeGreaterThanOrEqual(5 * options.retryMs);
        const other = await fetch(`${full.url}/orders/events`, {
          headers: { 'x-user': 'late', accept: '*/*' },
        });
        expect(other.status).toBe(503);
        expect(((await other.json()) as { message: string }).message).toMatch(/Too many streams/);
      } finally {
        open.forEach((client) => client.close());
        open = [];
        await full.close();
      }
    });
  },
);

describe("an app's own @Sse() endpoint over HTTP/2", () => {
  it('sends the same events, and releases the stream when the client goes away', async () => {
    const app = await startApp({}, { http2: true });
    const session = connectHttp2(app.url);
    const stream = session.request({
      ':path': '/orders/events',
      accept: 'text/event-stream',
      'x-user': 'h2',
    });
    await once(stream, 'response');
    let body = '';
    stream.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    await waitFor(() => body.includes('event: connected'), 'the connected event');
    const id = await app.bus.publish('over h2', { clientId: 'h2' });
    await waitFor(() => body.includes(`id: ${id}\ndata: "over h2"\n\n`), 'the message');
    stream.close();
    await waitFor(() => app.bus.subscriberCount === 0, 'the subscription to be released');
    session.close();
    await app.close();
  });
});
