import { once } from 'node:events';
import { request } from 'node:http';
import { connect as connectHttp2, constants } from 'node:http2';
import { connect } from 'node:net';
import { StreamRegistry } from '../../src/sse/stream-registry.js';
import { RawSseClient } from '../support/sse-client.js';
import { type TestApp, startApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

describe('GET /sse/msg', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ heartbeatMs: 50, retryMs: 1500 });
  });
  afterAll(() => app.close());

  it('opens with retry and connected, then sends messages with the bus ids and event names', async () => {
    const client = await new RawSseClient(`${app.url}/sse/msg`).opened();
    expect(client.status).toBe(200);
    expect(client.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(client.headers['cache-control']).toContain('no-cache');
    const [connected] = await client.waitForEvents(1);
    expect(connected.retry).toBe(1500);
    expect(connected.event).toBe('connected');
    expect(connected.id).toBe(app.bus.position());
    expect(JSON.parse(connected.data!).clientId).toMatch(/^[0-9a-f-]{36}$/);

    const first = await app.bus.publish({ hello: 'world' });
    const second = await app.bus.publish('two', { event: 'greeting' });
    await client.waitForEvents(3);
    expect(client.events.slice(1)).toEqual([
      { id: first, data: '{"hello":"world"}' },
      { id: second, event: 'greeting', data: '"two"' },
    ]);
    // The bytes themselves: no field but those, nothing numbered per connection.
    expect(client.raw).toContain(`id: ${first}\ndata: {"hello":"world"}\n\n`);
    expect(client.raw).toContain(`id: ${second}\nevent: greeting\ndata: "two"\n\n`);
    client.close();
  });

  it('sends a heartbeat comment, which carries no id, every heartbeatMs', async () => {
    const client = new RawSseClient(`${app.url}/sse/msg`);
    await waitFor(() => client.comments >= 3, 'three heartbeats');
    // A comment line that ends no event: a block without data would reach some parsers' handlers.
    expect(client.raw).toMatch(/\n\n:\n:\n:\n/);
    expect(client.raw).not.toMatch(/:\n\n/);
    expect(client.events).toHaveLength(1);
    client.close();
  });

  it('gives every connection its own anonymous id and ignores ?clientId=', async () => {
    const one = new RawSseClient(`${app.url}/sse/msg?clientId=alice`);
    const two = new RawSseClient(`${app.url}/sse/msg?clientId=alice`);
    const [a, b] = await Promise.all([one.waitForEvents(1), two.waitForEvents(1)]);
    const ids = [a[0], b[0]].map((event) => JSON.parse(event.data!).clientId);
    expect(ids[0]).not.toBe('alice');
    expect(ids[0]).not.toBe(ids[1]);
    await app.bus.publish('for alice', { clientId: 'alice' });
    const mine = await app.bus.publish('for one', { clientId: ids[0] });
    await one.waitForEvents(2);
    expect(one.events[1]).toEqual({ id: mine, data: '"for one"' });
    expect(two.events).toHaveLength(1);
    one.close();
    two.close();
  });

  it('answers HEAD with the headers and no body, and HTTP/1.0 without chunked framing', async () => {
    const head = await fetch(`${app.url}/sse/msg`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const socket = connect(Number(new URL(app.url).port), '127.0.0.1');
    let bytes = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (bytes += chunk));
    socket.write('GET /sse/msg HTTP/1.0\r\nAccept: text/event-stream\r\n\r\n');
    await waitFor(() => bytes.includes('event: connected'), 'the connected frame');
    socket.destroy();
    const body = bytes.slice(bytes.indexOf('\r\n\r\n') + 4);
    expect(body).toMatch(
      /^retry: 1500\nid: \S+\nevent: connected\ndata: \{"clientId":"[0-9a-f-]{36}"\}\n\n/,
    );
  });

  it('releases the subscription when the client goes away', async () => {
    const client = new RawSseClient(`${app.url}/sse/msg`);
    await client.waitForEvents(1);
    expect(app.bus.subscriberCount).toBe(1);
    client.close();
    await waitFor(() => app.bus.subscriberCount === 0, 'the subscription to be released');
    expect(app.app.get(StreamRegistry).size).toBe(0);
  });

  it('leaves no subscription, stream or listener behind after 1,000 connect/disconnect cycles', async () => {
    const server = app.app.getHttpServer();
    const listenersBefore = server.listenerCount('request') + server.listenerCount('connection');
    const cycle = () =>
      new Promise<void>((resolve, reject) => {
        const req = request(`${app.url}/sse/msg`, (res) => {
          // Some leave at once, some after the first bytes.
          res.once('data', () => req.destroy());
          res.once('close', () => resolve());
        });
        req.once('error', reject);
        req.end();
      });
    for (let round = 0; round < 100; round++) {
      await Promise.all(Array.from({ length: 10 }, cycle));
    }
    const streams = app.app.get(StreamRegistry);
    await waitFor(
      () => app.bus.subscriberCount === 0 && streams.size === 0,
      'every stream to be released',
    );
    expect(server.listenerCount('request') + server.listenerCount('connection')).toBe(
      listenersBefore,
    );
    await waitFor(
      () =>
        new Promise((resolve) =>
          server.getConnections((_: unknown, count: number) => resolve(count === 0)),
        ),
      'sockets closed',
    );
  });
});

describe('GET /sse/msg over HTTP/2', () => {
  it('sends the same stream, and releases it when the client goes away', async () => {
    const app = await startApp({ heartbeatMs: 50, retryMs: 1500 }, { http2: true });
    const session = connectHttp2(app.url);
    const stream = session.request({ ':path': '/sse/msg', accept: 'text/event-stream' });
    const [headers] = (await once(stream, 'response')) as [Record<string, string>];
    expect(headers[':status']).toBe(200);
    expect(headers['content-type']).toBe('text/event-stream');
    expect(headers.connection).toBeUndefined();
    let body = '';
    stream.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    await waitFor(() => body.includes('event: connected'), 'the connected frame');
    const id = await app.bus.publish('over h2');
    await waitFor(() => body.includes(`id: ${id}\ndata: "over h2"\n\n`), 'the message');
    expect(body).toMatch(/^retry: 1500\nid: \S+\nevent: connected\n/);
    // The browser cancels the stream; the connection stays.
    stream.close(constants.NGHTTP2_CANCEL);
    await waitFor(() => app.bus.subscriberCount === 0, 'the subscription to be released');
    session.close();
    await app.close();
  });
});
