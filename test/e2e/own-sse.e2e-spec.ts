import { once } from 'node:events';
import { request } from 'node:http';
import { connect as connectHttp2 } from 'node:http2';
import { connect } from 'node:net';
import { jest } from '@jest/globals';
import { Controller, Logger, type MessageEvent, Req, Sse } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Observable } from 'rxjs';
import { MessageBus, SseStreamService } from '../../src/index.js';
import { RawSseClient } from '../support/sse-client.js';
import { type TestApp, startApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

/** An app's own endpoint; the client id comes from `?as=` here (an app takes it from its auth). */
@Controller()
class OwnController {
  constructor(private readonly bus: MessageBus) {}

  @Sse('own')
  own(@Req() request: FastifyRequest<{ Querystring: { as?: string } }>): Observable<MessageEvent> {
    return this.bus.sse(request, { clientId: request.query.as });
  }
}

const own = (app: TestApp, as: string) => `${app.url}/own?as=${as}`;

describe('MessageBus.sse() from an app’s own @Sse() endpoint', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp(
      { heartbeatMs: 50, retryMs: 1500, maxBufferedBytes: 256 * 1024, maxMessageBytes: 65536 },
      { controllers: [OwnController] },
    );
  });
  afterAll(() => app.close());

  it('opens with connected (retry on it), then the messages the client may see, with bus ids', async () => {
    const alice = new RawSseClient(own(app, 'alice'));
    const bob = new RawSseClient(own(app, 'bob'));
    const [[connected]] = await Promise.all([alice.waitForEvents(1), bob.waitForEvents(1)]);
    expect(connected).toEqual({
      id: app.bus.position(),
      event: 'connected',
      retry: 1500,
      data: '{"clientId":"alice"}',
    });
    const first = await app.bus.publish({ hello: 'world' });
    const second = await app.bus.publish('two', { event: 'greeting', clientId: 'alice' });
    const third = await app.bus.publish('for bob', { clientId: 'bob' });
    await alice.waitForEvents(3);
    await bob.waitForEvents(3);
    expect(alice.events.slice(1)).toEqual([
      { id: first, data: '{"hello":"world"}' },
      { id: second, event: 'greeting', data: '"two"' },
    ]);
    expect(bob.events.slice(1)).toEqual([
      { id: first, data: '{"hello":"world"}' },
      { id: third, data: '"for bob"' },
    ]);
    // Every id on the wire is a bus id: Nest numbers none of them.
    expect(alice.raw).toContain(`id: ${first}\ndata: {"hello":"world"}\n\n`);
    alice.close();
    bob.close();
  });

  it('sends the heartbeat as a bare comment, which carries no id', async () => {
    const client = new RawSseClient(own(app, 'carol'));
    await waitFor(() => client.comments >= 3, 'three heartbeats');
    expect(client.raw).toMatch(/\n: ?\n\n/);
    expect(client.events).toHaveLength(1);
    client.close();
  });

  it('gives a resuming client what it missed, exactly once and in order', async () => {
    const first = await app.bus.publish('one');
    const missed = [await app.bus.publish('two'), await app.bus.publish('three')];
    const client = new RawSseClient(own(app, 'dave'), { 'last-event-id': first });
    await client.waitForEvents(3);
    const live = await app.bus.publish('four');
    await client.waitForEvents(4);
    expect(client.events.map((event) => event.id)).toEqual([first, ...missed, live]);
    expect(client.events[0].event).toBe('connected');
    client.close();
  });

  it('releases the stream when the client goes away', async () => {
    const client = new RawSseClient(own(app, 'erin'));
    await client.waitForEvents(1);
    expect(app.bus.subscriberCount).toBe(1);
    client.close();
    await waitFor(() => app.bus.subscriberCount === 0, 'the subscription to be released');
    expect(app.app.get(SseStreamService).openStreams).toBe(0);
  });

  it('leaves no subscription or stream behind after 1,000 connect/disconnect cycles', async () => {
    const cycle = (n: number) =>
      new Promise<void>((resolve, reject) => {
        const req = request(own(app, `cycle${n % 3}`), (res) => {
          // Some leave at once, some after the first bytes.
          if (n % 2) req.destroy();
          else res.once('data', () => req.destroy());
          res.once('close', () => resolve());
        });
        req.once('error', reject);
        req.end();
      });
    for (let round = 0; round < 100; round++) {
      await Promise.all(Array.from({ length: 10 }, (_, k) => cycle(round * 10 + k)));
    }
    const streams = app.app.get(SseStreamService);
    await waitFor(
      () => app.bus.subscriberCount === 0 && streams.openStreams === 0,
      'every stream to be released',
    );
  });

  it('cuts off a client that stops reading, while the others get every message', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const reader = new RawSseClient(own(app, 'frank'), {}, true);
    await reader.waitForEvents(1);
    // It reads nothing, so it does not even notice when the server closes the connection.
    const stalled = connect({
      port: Number(new URL(app.url).port),
      host: '127.0.0.1',
      onread: { buffer: Buffer.alloc(1024), callback: () => false },
    });
    stalled.on('error', () => undefined);
    stalled.write('GET /own?as=gina HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n');
    await waitFor(() => app.bus.subscriberCount === 2, 'the stalled stream to open');
    const data = 'x'.repeat(60_000);
    const count = 300; // 18 MB: far more than the kernel's buffers and the 256 KiB limit
    for (let n = 0; n < count; n++) {
      await app.bus.publish({ n, data });
      // A turn for the sockets: within one, a reader could not be told from a stalled client.
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await reader.waitForEvents(1 + count, 'every message', 30_000);
    await waitFor(() => app.bus.subscriberCount === 1, 'the stalled client to be cut off');
    expect(app.app.get(SseStreamService).openStreams).toBe(1);
    // Cut off by the bus's limit, long before Nest's own (4 MiB of queued events).
    expect(warn).toHaveBeenCalledWith('Client gina is not reading: disconnected');
    warn.mockRestore();
    reader.close();
    stalled.destroy();
  });
});

describe('MessageBus.sse() over HTTP/2', () => {
  it('sends the same events, and releases the stream when the client goes away', async () => {
    const app = await startApp({}, { http2: true, controllers: [OwnController] });
    const session = connectHttp2(app.url);
    const stream = session.request({ ':path': '/own?as=h2', accept: 'text/event-stream' });
    await once(stream, 'response');
    let body = '';
    stream.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    await waitFor(() => body.includes('event: connected'), 'the connected event');
    const id = await app.bus.publish('over h2');
    await waitFor(() => body.includes(`id: ${id}\ndata: "over h2"\n\n`), 'the message');
    stream.close();
    await waitFor(() => app.bus.subscriberCount === 0, 'the subscription to be released');
    session.close();
    await app.close();
  });
});

describe('MessageBus.sse() at the limits', () => {
  it('turns a browser away with busy when full, and ends every stream with a retry at shutdown', async () => {
    const app = await startApp(
      { maxConnections: 1, retryMs: 1000, reconnectJitterMs: 500 },
      { controllers: [OwnController] },
    );
    const held = new RawSseClient(own(app, 'held'));
    await held.waitForEvents(1);
    const last = await app.bus.publish('last');
    await held.waitForEvents(2);

    const browser = await new RawSseClient(own(app, 'late')).opened();
    await waitFor(() => browser.ended, 'the busy stream to end');
    expect(browser.status).toBe(200);
    const [busy] = browser.events;
    expect(busy.event).toBe('busy');
    expect(busy.retry).toBeGreaterThanOrEqual(5000);
    expect(busy.retry).toBeLessThanOrEqual(5500);
    const other = await fetch(own(app, 'late'), { headers: { accept: '*/*' } });
    expect(other.status).toBe(503);
    await other.text();

    // Nest ends the response, not its keep-alive connection, which would hold the close up until
    // it times out: an app closes idle connections while it shuts down, as main.ts does.
    const sweep = setInterval(() => app.app.getHttpServer().closeIdleConnections(), 50);
    await app.close();
    clearInterval(sweep);
    await waitFor(() => held.ended, 'the stream to end');
    const closing = held.events.at(-1)!;
    expect(closing.id).toBe(last);
    expect(closing.retry).toBeGreaterThanOrEqual(1000);
    expect(closing.retry).toBeLessThanOrEqual(1500);
    expect(closing.event).toBeUndefined();
  });
});
