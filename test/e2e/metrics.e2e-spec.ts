import { connect } from 'node:net';
import { register } from 'prom-client';
import { MetricsService } from '../../src/metrics/metrics.service.js';
import { growth, parseSamples, scrape } from '../support/prometheus.js';
import { startService } from '../support/service-process.js';
import { RawSseClient } from '../support/sse-client.js';
import { type TestApp, startApp } from '../support/test-app.js';
import { signToken } from '../support/tokens.js';
import { waitFor } from '../support/wait-for.js';

const SECRET = 'metrics-test-secret-of-enough-length';

const closed = (reason: string) => `sse_bus_streams_closed_total{reason="${reason}"}`;
const published = (kind: string) => `sse_bus_messages_published_total{kind="${kind}"}`;

describe('GET /metrics of the module', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({
      metrics: true,
      jwtSecret: SECRET,
      maxConnections: 5,
      maxMessageBytes: 16 * 1024,
      maxBufferedBytes: 64 * 1024,
    });
  });
  afterAll(() => app?.close());

  const open = async (sub: string, headers: Record<string, string> = {}, seconds?: number) => {
    const topics = sub === 'ben' ? ['news'] : [];
    const token = await signToken(SECRET, sub, seconds, { topics });
    const query = new URLSearchParams({ token, ...(topics.length ? { topic: 'news' } : {}) });
    const client = new RawSseClient(`${app.url}/sse/msg?${query}`, headers);
    await client.waitForEvent((event) => event.event === 'connected', `${sub}'s stream`);
    return client;
  };

  it('counts streams, messages, frames, replays and resets as the bus works', async () => {
    const s0 = await scrape(app.url);
    expect(s0.get('sse_bus_open_streams')).toBe(0);

    const [ann, ben, cat] = await Promise.all(['ann', 'ben', 'cat'].map((sub) => open(sub)));
    const annStart = ann.events.find((event) => event.event === 'connected')!.id!;
    await app.bus.publish({ to: 'all' });
    await app.bus.publish({ to: 'ann' }, { clientId: 'ann' });
    await app.bus.publish({ to: 'news' }, { topic: 'news' });
    await ann.waitForEvents(3);
    await ben.waitForEvents(3);
    await cat.waitForEvents(2);
    const s1 = await scrape(app.url);
    expect(s1.get('sse_bus_open_streams')).toBe(3);
    expect(
      growth(s0, s1, [
        'sse_bus_streams_opened_total',
        published('broadcast'),
        published('client'),
        published('topic'),
        'sse_bus_frames_delivered_total',
        'sse_bus_publish_duration_seconds_count',
        'sse_bus_lag_seconds_count',
      ]),
    ).toEqual({
      sse_bus_streams_opened_total: 3,
      [published('broadcast')]: 1,
      [published('client')]: 1,
      [published('topic')]: 1,
      // The broadcast to 3 streams, the others to one each.
      sse_bus_frames_delivered_total: 5,
      sse_bus_publish_duration_seconds_count: 3,
      sse_bus_lag_seconds_count: 3,
    });

    // Resumes: one replays what ann missed (the broadcast and her own), one cannot.
    const annAgain = await open('ann', { 'last-event-id': annStart });
    await annAgain.waitForEvents(3);
    const eve = await open('eve', { 'last-event-id': 'not-an-id' });
    await eve.waitForEvent((event) => event.event === 'reset', 'the reset');
    // Five streams: the instance is full.
    const refused = await fetch(`${app.url}/sse/msg`, {
      headers: { authorization: `Bearer ${await signToken(SECRET, 'fay')}` },
    });
    expect(refused.status).toBe(503);
    ann.close();
    eve.close();
    await waitFor(() => app.bus.subscriberCount === 3, 'two streams to close');
    const s2 = await scrape(app.url);
    expect(
      growth(s1, s2, [
        'sse_bus_frames_replayed_total',
        'sse_bus_resets_total{reason="malformed"}',
        'sse_bus_streams_turned_away_total{reason="full"}',
        closed('client'),
      ]),
    ).toEqual({
      sse_bus_frames_replayed_total: 2,
      'sse_bus_resets_total{reason="malformed"}': 1,
      'sse_bus_streams_turned_away_total{reason="full"}': 1,
      [closed('client')]: 2,
    });
    expect(s2.get('sse_bus_open_streams')).toBe(3);

    // A token that expires ends its stream.
    const dan = await open('dan', {}, 2);
    await waitFor(() => dan.ended, "dan's stream to end when his token expires", 5_000);
    // A client that stops reading is cut off.
    const sid = connect({
      port: Number(new URL(app.url).port),
      host: '127.0.0.1',
      onread: { buffer: Buffer.alloc(1024), callback: () => false },
    });
    let sidGone = false;
    sid.on('close', () => (sidGone = true)).on('error', () => undefined);
    const sidToken = await signToken(SECRET, 'sid');
    sid.write(
      `GET /sse/msg?token=${sidToken} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n`,
    );
    await waitFor(() => app.bus.subscriberCount === 4, "sid's stream to open");
    const data = 'x'.repeat(8 * 1024);
    for (let sent = 0; !sidGone && sent < 5_000; sent++) {
      await app.bus.publish(data, { clientId: 'sid' });
      if (sent % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(() => app.bus.subscriberCount === 3, "sid's stream to be cut off");
    const s3 = await scrape(app.url);
    expect(growth(s2, s3, [closed('expired'), closed('slow'), closed('client')])).toEqual({
      [closed('expired')]: 1,
      [closed('slow')]: 1,
      [closed('client')]: 0,
    });

    // What is open when the app closes ends with the shutdown.
    const metrics = app.app.get(MetricsService);
    await app.close();
    const s4 = parseSamples(await metrics.scrape());
    expect(growth(s3, s4, [closed('shutdown')])).toEqual({ [closed('shutdown')]: 3 });
    expect(s4.get('sse_bus_open_streams')).toBe(0);
    [ben, cat, annAgain].forEach((client) => client.close());
  });
});

describe('the module without metrics, and two apps in one process', () => {
  let plain: TestApp;
  let one: TestApp;
  let two: TestApp;
  beforeAll(async () => {
    plain = await startApp();
    one = await startApp({ metrics: true });
    two = await startApp({ metrics: { token: 'scrape-me' } });
  });
  afterAll(() => Promise.all([plain?.close(), one?.close(), two?.close()]));

  it('serves no /metrics unless asked to', async () => {
    expect((await fetch(`${plain.url}/metrics`)).status).toBe(404);
  });

  it("counts each app apart, in registries of their own, never prom-client's global one", async () => {
    const auth = { authorization: 'Bearer scrape-me' };
    const before = [await scrape(one.url), await scrape(two.url, auth)];
    await one.bus.publish('one');
    await one.bus.publish('two');
    const after = [await scrape(one.url), await scrape(two.url, auth)];
    expect(after.map((samples, i) => growth(before[i], samples, [published('broadcast')]))).toEqual(
      [{ [published('broadcast')]: 2 }, { [published('broadcast')]: 0 }],
    );
    // Node's default metrics, in both.
    expect(after.map((samples) => samples.has('process_cpu_user_seconds_total'))).toEqual([
      true,
      true,
    ]);
    expect(register.getMetricsAsArray()).toEqual([]);
  });

  it('asks for the token when it has one: 401 with a JSON body', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }] as Record<string, string>[]) {
      const response = await fetch(`${two.url}/metrics`, { headers });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ statusCode: 401 });
    }
  });
});

describe('GET /metrics of the service', () => {
  it('is on by default, in Prometheus text with Node metrics', async () => {
    const service = await startService();
    try {
      const response = await fetch(`${service.url}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const samples = parseSamples(await response.text());
      expect(samples.get('sse_bus_open_streams')).toBe(0);
      expect(samples.get('nodejs_eventloop_lag_seconds')).toBeDefined();
    } finally {
      await service.stop();
    }
  });

  it('is off with SSE_METRICS=false: 404', async () => {
    const service = await startService({ SSE_METRICS: 'false' });
    try {
      const response = await fetch(`${service.url}/metrics`);
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ statusCode: 404 });
    } finally {
      await service.stop();
    }
  });

  it('requires SSE_METRICS_TOKEN as a bearer token when set', async () => {
    const service = await startService({ SSE_METRICS_TOKEN: 'metrics-secret' });
    try {
      expect((await fetch(`${service.url}/metrics`)).status).toBe(401);
      const bearing = { authorization: 'Bearer metrics-secret' };
      expect((await fetch(`${service.url}/metrics`, { headers: bearing })).status).toBe(200);
    } finally {
      await service.stop();
    }
  });
});
