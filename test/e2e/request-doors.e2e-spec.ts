import { publishTo } from '../support/publish.js';
import { rawHttp } from '../support/raw-http.js';
import { type ServiceProcess, startService } from '../support/service-process.js';
import { RawSseClient } from '../support/sse-client.js';
import { type TestApp, startApp } from '../support/test-app.js';
import { signToken } from '../support/tokens.js';

const JWT_SECRET = 'doors-test-jwt-secret-0123456789';
const PUBLISH_TOKEN = 'doors-test-publish-token-0123456789';

/** A request's head, as a raw client writes it. */
const head = (line: string, ...headers: string[]) =>
  `${line} HTTP/1.1\r\nHost: x\r\n${headers.map((header) => `${header}\r\n`).join('')}\r\n`;

describe('the doors of the request path, on the service', () => {
  let service: ServiceProcess;
  let witness: RawSseClient;
  let sent = 0;

  /** A normal publish still reaches an open stream: whatever came before did no harm. */
  async function normalPublishArrives(): Promise<void> {
    const n = ++sent;
    await publishTo(service.url, PUBLISH_TOKEN, { data: { n }, clientId: 'witness' });
    await witness.waitForEvent(
      (event) => event.data === JSON.stringify({ n }),
      `publish ${n} on the witness's stream`,
    );
  }

  /** A publish with the token, of `body` as `type` (and `extra` headers), as a raw client sends it. */
  const rawPublish = (type: string, body: string, ...extra: string[]) =>
    rawHttp(
      service.url,
      head(
        'POST /sse/publish',
        `Authorization: Bearer ${PUBLISH_TOKEN}`,
        `Content-Type: ${type}`,
        ...extra,
        `Content-Length: ${body.length}`,
      ) + body,
    );

  const stream = async (sub: string, extra: Record<string, string> = {}) =>
    new RawSseClient(`${service.url}/sse/msg`, {
      authorization: `Bearer ${await signToken(JWT_SECRET, sub)}`,
      ...extra,
    }).opened();

  beforeAll(async () => {
    service = await startService({
      SSE_JWT_SECRET: JWT_SECRET,
      SSE_PUBLISH_TOKEN: PUBLISH_TOKEN,
      SSE_MAX_STREAMS_PER_CLIENT: '3',
      LOG_LEVEL: 'debug',
    });
    witness = await stream('witness');
    await witness.waitForEvents(1);
  });

  afterAll(async () => {
    witness.close();
    await service.stop();
  });

  it('refuses a publish without the token before its body is read', async () => {
    // 1 MiB announced, none sent: only an answer that does not wait for the body can come.
    const announced = ['Content-Type: application/json', 'Content-Length: 1048576'];
    const stranger = await rawHttp(service.url, head('POST /sse/publish', ...announced));
    expect(stranger.status).toBe(401);
    expect(JSON.parse(stranger.body)).toMatchObject({ message: expect.stringMatching(/token/) });
    const wrong = await rawHttp(
      service.url,
      head('POST /sse/publish', 'Authorization: Bearer wrong', ...announced),
    );
    expect(wrong.status).toBe(401);
    const presence = await rawHttp(service.url, head('GET /sse/presence', ...announced));
    expect(presence.status).toBe(401);
    await normalPublishArrives();
  });

  it.each([
    ['a form', 'application/x-www-form-urlencoded', [], 'data=1'],
    ['UTF-16', 'application/json; charset=utf-16', [], '{"data":1}'],
    ['plain text', 'text/plain', [], '{"data":1}'],
    ['gzip that is not', 'application/json', ['Content-Encoding: gzip'], '{"data":1}'],
  ])('answers 415 to %s', async (_, type, extra, body) => {
    const response = await rawPublish(type, body, ...extra);
    expect(response.status).toBe(415);
    expect(JSON.parse(response.body)).toMatchObject({
      statusCode: 415,
      message: expect.any(String),
    });
    await normalPublishArrives();
  });

  it('takes application/json with its charset named, and without', async () => {
    for (const type of ['application/json; charset=UTF-8', 'application/json']) {
      const body = JSON.stringify({ data: type, clientId: 'witness' });
      const response = await rawPublish(type, body);
      expect(response.status).toBe(202);
    }
  });

  it('never writes a token of a URL into a log or an answer, however the URL hides it', async () => {
    const secrets = await Promise.all(
      Array.from({ length: 8 }, (_, n) => signToken(JWT_SECRET, `hidden-${n}`)),
    );
    const urls = [
      `/sse/msg#token=${secrets[0]}`,
      `/sse/msg??token=${secrets[1]}`,
      `/sse/msg;token=${secrets[2]}`,
      `/sse/msg?%74oken=${secrets[3]}`,
      `/sse/msg?token=x&TOKEN=${secrets[4]}`,
      `/%zz?token=${secrets[5]}`,
      `/nowhere?a=1&token=${secrets[6]}`,
      `/sse/msg?access_token=${secrets[7]}`,
    ];
    const answers = await Promise.all(
      urls.map((url) => rawHttp(service.url, head(`GET ${url}`, 'Connection: close'))),
    );
    await normalPublishArrives();
    const written = [service.output(), ...answers.map((answer) => answer.headers + answer.body)];
    const leaked = secrets.filter((secret) =>
      written.some((text) => text.includes(secret.split('.')[2])),
    );
    expect(leaked).toEqual([]);
    expect(service.output()).toContain('token=[redacted]');
  });

  it('escapes U+2028, U+2029 and U+0085 in data, so that the value arrives the same', async () => {
    const text = 'a\u2028b\u2029c\u0085d';
    await publishTo(service.url, PUBLISH_TOKEN, { data: { text }, clientId: 'witness' });
    const event = await witness.waitForEvent(
      (each) => each.data?.includes('a\\u2028b') === true,
      'the text',
    );
    expect(JSON.parse(event.data!)).toEqual({ text });
    expect(witness.raw).not.toMatch(/[\u0085\u2028\u2029]/);
  });

  it('refuses line separators in client ids: 400 on publish, 401 for a token sub', async () => {
    const response = await fetch(`${service.url}/sse/publish`, {
      method: 'POST',
      headers: { authorization: `Bearer ${PUBLISH_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ data: 1, clientId: 'a\u2028b' }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toMatch(/line separators/);
    const sub = await stream('a\u2029b');
    expect(sub.status).toBe(401);
    await normalPublishArrives();
  });

  it('refuses a token without exp', async () => {
    const forever = await signToken(JWT_SECRET, 'forever', null);
    const response = await fetch(`${service.url}/sse/msg`, {
      headers: { authorization: `Bearer ${forever}` },
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { message: string }).message).toMatch(/exp/);
    await normalPublishArrives();
  });

  it('refuses the stream past SSE_MAX_STREAMS_PER_CLIENT with 429; those open stay', async () => {
    const open = await Promise.all([1, 2, 3].map(() => stream('greedy')));
    await Promise.all(open.map((client) => client.waitForEvents(1)));
    const refused = await stream('greedy', { accept: 'text/event-stream' });
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.raw)).toMatchObject({
      statusCode: 429,
      message: expect.stringMatching(/3 streams/),
    });
    await publishTo(service.url, PUBLISH_TOKEN, { data: 'still here', clientId: 'greedy' });
    await Promise.all(open.map((client) => client.waitForEvents(2)));
    await normalPublishArrives();
    // One leaves: its place is free again.
    open[0].close();
    const again = await stream('greedy');
    await again.waitForEvents(1);
    expect(again.status).toBe(200);
    [again, ...open].forEach((client) => client.close());
  });
});

describe('the doors of the request path, in an app', () => {
  let app: TestApp;

  afterEach(() => app.close());

  it("counts an app's own @Sse() streams per client too", async () => {
    app = await startApp({ maxStreamsPerClient: 2 });
    const open = (user: string) =>
      new RawSseClient(`${app.url}/orders/events`, { 'x-user': user }).opened();
    const streams = await Promise.all([open('greedy'), open('greedy')]);
    await Promise.all(streams.map((client) => client.waitForEvents(1)));
    const refused = await open('greedy');
    expect(refused.status).toBe(429);
    const other = await open('modest');
    expect(other.status).toBe(200);
    await app.bus.publish('still here', { clientId: 'greedy' });
    await Promise.all(streams.map((client) => client.waitForEvents(2)));
    [...streams, other].forEach((client) => client.close());
  });

  it('takes a token without exp when jwtRequireExp is false', async () => {
    app = await startApp({ jwtSecret: JWT_SECRET, jwtRequireExp: false });
    const forever = await signToken(JWT_SECRET, 'forever', null);
    const client = await new RawSseClient(`${app.url}/sse/msg`, {
      authorization: `Bearer ${forever}`,
    }).opened();
    expect(client.status).toBe(200);
    await app.bus.publish('hello', { clientId: 'forever' });
    await client.waitForEvents(2);
    client.close();
  });
});
