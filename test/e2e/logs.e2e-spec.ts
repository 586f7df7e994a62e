import { type ServiceProcess, startService } from '../support/service-process.js';
import { RawSseClient } from '../support/sse-client.js';
import { signToken } from '../support/tokens.js';
import { waitFor } from '../support/wait-for.js';

const JWT_SECRET = 'logs-test-jwt-secret-0123456789';
const PUBLISH_TOKEN = 'logs-test-publish-token-0123456789';
const METRICS_TOKEN = 'logs-test-metrics-token-0123456789';
const WRONG_TOKEN = 'logs-test-wrong-token-0123456789';

type Line = Record<string, unknown> & { level: string; msg: string; reqId?: string };

describe('the service logs, as JSON', () => {
  let service: ServiceProcess;
  let lines: Line[];
  const secrets: string[] = [JWT_SECRET, PUBLISH_TOKEN, METRICS_TOKEN, WRONG_TOKEN];

  beforeAll(async () => {
    service = await startService({
      SSE_JWT_SECRET: JWT_SECRET,
      SSE_PUBLISH_TOKEN: PUBLISH_TOKEN,
      SSE_METRICS_TOKEN: METRICS_TOKEN,
      LOG_LEVEL: 'debug',
    });
    const [inQuery, inHeader, inCookie] = await Promise.all(
      ['query', 'header', 'cookie'].map((sub) => signToken(JWT_SECRET, sub)),
    );
    // The whole token, and its signature alone.
    secrets.push(...[inQuery, inHeader, inCookie].flatMap((token) => [token, token.split('.')[2]]));
    const streams = [
      new RawSseClient(`${service.url}/sse/msg?token=${inQuery}`),
      new RawSseClient(`${service.url}/sse/msg`, { authorization: `Bearer ${inHeader}` }),
      new RawSseClient(`${service.url}/sse/msg`, { cookie: `sse_token=${inCookie}` }),
    ];
    await Promise.all(streams.map((client) => client.waitForEvents(1)));
    const publish = (token: string) =>
      fetch(`${service.url}/sse/publish`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'x-request-id': `publish-${token === PUBLISH_TOKEN ? 'right' : 'wrong'}`,
        },
        body: JSON.stringify({ data: 'hello' }),
      });
    expect((await publish(PUBLISH_TOKEN)).status).toBe(202);
    expect((await publish(WRONG_TOKEN)).status).toBe(401);
    const scrape = await fetch(`${service.url}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(scrape.status).toBe(200);
    expect((await fetch(`${service.url}/sse/msg?token=${WRONG_TOKEN}`)).status).toBe(401);
    await Promise.all(streams.map((client) => client.waitForEvents(2)));
    streams.forEach((client) => client.close());
    await waitFor(
      () => service.output().split('closed: client').length > 3,
      'the streams to be logged closing',
    );
    expect(await service.stop()).toBe(0);
    lines = service
      .output()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Line);
  });

  it('never writes a token: ?token=, Authorization, the cookie, the publish and metrics tokens', () => {
    const output = service.output();
    expect(secrets.filter((secret) => output.includes(secret))).toEqual([]);
    expect(output).toContain('token=[redacted]');
  });

  it("is all one JSON object a line, Nest's and Fastify's", () => {
    expect(lines.some((line) => line.context === 'NestApplication')).toBe(true);
    expect(lines.some((line) => line.msg.startsWith('Server listening'))).toBe(true);
  });

  it('puts the request id on every request line, and on what is logged while handling it', () => {
    const requestLines = lines.filter((line) => 'req' in line || 'res' in line);
    // Seven requests; the three streams the clients closed never completed.
    expect(requestLines.map((line) => line.msg).sort()).toEqual([
      ...Array<string>(7).fill('incoming request'),
      ...Array<string>(4).fill('request completed'),
    ]);
    expect(requestLines.filter((line) => typeof line.reqId !== 'string')).toEqual([]);
    // An id given by a proxy in front is kept.
    expect(lines.filter((line) => line.reqId === 'publish-right').map((line) => line.msg)).toEqual([
      'incoming request',
      'request completed',
    ]);
    const opened = lines.filter((line) => line.msg.startsWith('Stream of query opened'));
    expect(opened).toEqual([
      expect.objectContaining({ level: 'debug', reqId: expect.any(String) }),
    ]);
  });

  it('logs a stream opening and closing at debug, with its client and why it closed, and no frame', () => {
    const streamLines = lines.filter((line) => line.context === 'StreamRegistry');
    expect(
      streamLines.map((line) => `${line.level} ${line.msg.replace(/ at .*/, '')}`).sort(),
    ).toEqual([
      'debug Stream of cookie closed: client',
      'debug Stream of cookie opened',
      'debug Stream of header closed: client',
      'debug Stream of header opened',
      'debug Stream of query closed: client',
      'debug Stream of query opened',
    ]);
    expect(service.output()).not.toContain('"hello"');
  });
});

describe('the service logs, pretty or quieter', () => {
  it('LOG_FORMAT=pretty: a line of text each', async () => {
    const service = await startService({ LOG_FORMAT: 'pretty', LOG_LEVEL: 'info' });
    await fetch(`${service.url}/health/live`, { headers: { 'x-request-id': 'pretty-1' } });
    expect(await service.stop()).toBe(0);
    const output = service.output();
    expect(output).toMatch(/^\[[\d:.]+\] INFO: \[sse-bus\] Listening on http/m);
    expect(output).toMatch(/INFO: incoming request \{"reqId":"pretty-1",/);
    expect(output.split('\n').filter((line) => line.startsWith('{'))).toEqual([]);
  });

  it('LOG_LEVEL=info: a publish taken writes no line; one refused, one line with its request', async () => {
    const service = await startService({ LOG_LEVEL: 'info', SSE_PUBLISH_TOKEN: PUBLISH_TOKEN });
    const publish = (token: string, id: string) =>
      fetch(`${service.url}/sse/publish`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'x-request-id': id,
        },
        body: JSON.stringify({ data: 'hello' }),
      });
    expect((await publish(PUBLISH_TOKEN, 'taken')).status).toBe(202);
    expect((await publish(WRONG_TOKEN, 'refused')).status).toBe(401);
    await fetch(`${service.url}/health/live`, { headers: { 'x-request-id': 'health' } });
    expect(await service.stop()).toBe(0);
    const lines = service
      .output()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Line);
    const of = (reqId: string) => lines.filter((line) => line.reqId === reqId);
    expect(of('taken')).toEqual([]);
    expect(of('refused')).toEqual([
      expect.objectContaining({
        level: 'info',
        msg: 'request completed',
        req: expect.objectContaining({ method: 'POST', url: '/sse/publish' }),
        res: { statusCode: 401 },
      }),
    ]);
    expect(of('health').map((line) => line.msg)).toEqual(['incoming request', 'request completed']);
  });

  it('LOG_LEVEL=warn: no request lines', async () => {
    const service = await startService({ LOG_LEVEL: 'warn' });
    await fetch(`${service.url}/health/live`);
    expect(await service.stop()).toBe(0);
    expect(service.output()).not.toContain('incoming request');
  });
});
