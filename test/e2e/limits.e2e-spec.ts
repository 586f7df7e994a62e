import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { type ServiceProcess, startService } from '../support/service-process.js';
import { RawSseClient } from '../support/sse-client.js';
import { type TestApp, startApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

describe('SSE_MAX_CONNECTIONS', () => {
  let app: TestApp;
  beforeAll(
    async () =>
      (app = await startApp({ maxConnections: 2, retryMs: 1000, reconnectJitterMs: 500 })),
  );
  afterAll(() => app.close());

  it('turns a browser away with 200, a backed-off retry and a busy frame; others get 503', async () => {
    const held = [new RawSseClient(`${app.url}/sse/msg`), new RawSseClient(`${app.url}/sse/msg`)];
    await Promise.all(held.map((client) => client.waitForEvents(1)));

    const browser = await new RawSseClient(`${app.url}/sse/msg`).opened();
    await waitFor(() => browser.ended, 'the busy stream to end');
    expect(browser.status).toBe(200);
    expect(browser.headers['content-type']).toMatch(/^text\/event-stream/);
    const [busy] = browser.events;
    expect(busy.event).toBe('busy');
    expect(busy.retry).toBeGreaterThanOrEqual(5000);
    expect(busy.retry).toBeLessThanOrEqual(5500);
    expect(busy.id).toBeUndefined();

    const other = await fetch(`${app.url}/sse/msg`, { headers: { accept: '*/*' } });
    expect(other.status).toBe(503);
    expect(Number(other.headers.get('retry-after'))).toBeGreaterThanOrEqual(5);
    expect(((await other.json()) as { message: string }).message).toMatch(/Too many streams/);

    held[0].close();
    await waitFor(() => app.bus.subscriberCount === 1, 'a slot to free up');
    const admitted = new RawSseClient(`${app.url}/sse/msg`);
    const [connected] = await admitted.waitForEvents(1);
    expect(connected.event).toBe('connected');
    [admitted, held[1]].forEach((client) => client.close());
  });
});

describe('a client that stops reading', () => {
  let service: ServiceProcess;
  beforeAll(async () => {
    // A small heap makes garbage go early, so what RSS keeps is what the process holds on to.
    service = await startService({
      SSE_PUBLISH_TOKEN: 't',
      SSE_MAX_BUFFERED_BYTES: String(1024 * 1024),
      // The embedded history holds its messages by design; keep it out of the measurement.
      SSE_HISTORY_MAXLEN: '10',
      NODE_OPTIONS: '--max-old-space-size=64',
    });
  });
  afterAll(() => service.stop());

  const rss = () =>
    Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${service.child.pid}/status`, 'utf8'))![1]) *
    1024;

  it('is cut off while healthy readers get every message and the process stays small', async () => {
    const healthy = Array.from(
      { length: 3 },
      () => new RawSseClient(`${service.url}/sse/msg`, {}, true),
    );
    await Promise.all(healthy.map((client) => client.waitForEvents(1)));
    // A reader that never reads: the kernel buffers fill, then the server's own.
    let stalledClosed = false;
    const stalled = connect({
      port: Number(new URL(service.url).port),
      host: '127.0.0.1',
      onread: { buffer: Buffer.alloc(1024), callback: () => false },
    });
    stalled.on('close', () => (stalledClosed = true)).on('error', () => undefined);
    stalled.write('GET /sse/msg HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n');
    await waitFor(() => service.output().includes('GET'), 'the stalled request to be logged');
    const before = rss();

    const data = 'x'.repeat(60_000);
    const count = 1600; // 96 MB to each reader
    for (let n = 0; n < count; n++) {
      const response = await fetch(`${service.url}/sse/publish`, {
        method: 'POST',
        headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
        body: JSON.stringify({ data: { n, data } }),
      });
      expect(response.status).toBe(202);
    }
    await Promise.all(
      healthy.map((client) => client.waitForEvents(1 + count, 'every message', 30_000)),
    );
    await waitFor(
      () => service.output().includes('is not reading: disconnected'),
      'the stalled client to be cut off',
    );
    const growth = rss() - before;
    console.log(
      `RSS grew by ${(growth / 1e6).toFixed(1)} MB while ${(count * data.length * 4) / 1e6} MB were sent`,
    );
    // Holding the stalled client's backlog alone would take 96 MB.
    expect(growth).toBeLessThan(60e6);
    for (const client of healthy) {
      const ids = client.events.slice(1).map((event) => event.id);
      expect(new Set(ids).size).toBe(count);
      client.close();
    }
    stalled.destroy();
    expect(stalledClosed || service.output().includes('is not reading')).toBe(true);
  });
});
