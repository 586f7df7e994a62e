import { parseSamples } from '../support/prometheus.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import { type ServiceProcess, startService } from '../support/service-process.js';
import { waitFor } from '../support/wait-for.js';
import { assertBuildIsFresh } from './support/built.js';
import { RedisProxy } from './support/redis-proxy.js';

/** How long after a fault, or after it ends, readiness must have changed: the figure. */
const READINESS_MS = 10_000;

interface Probe {
  status: number;
  body: { status: string; error?: Record<string, { status: string; detail?: string }> };
}

async function probe(service: ServiceProcess, path: string): Promise<Probe> {
  const response = await fetch(`${service.url}${path}`, { signal: AbortSignal.timeout(2_000) });
  return { status: response.status, body: (await response.json()) as Probe['body'] };
}

/** Waits, from now, until `GET /health/ready` answers `status`; returns that answer. */
async function readyTurns(service: ServiceProcess, status: number, what: string): Promise<Probe> {
  let last: Probe | undefined;
  await waitFor(
    async () => (last = await probe(service, '/health/ready')).status === status,
    what,
    READINESS_MS,
  );
  return last!;
}

/**
 * `GET /health/ready` follows the bus: 503 within 10 s of Redis failing, 200 again within 10 s
 * of it coming back; `GET /health/live` stays 200 throughout.
 */
describe('GET /health/ready when Redis fails', () => {
  let redis: RedisServer;
  let proxy: RedisProxy | undefined;
  let service: ServiceProcess | undefined;
  beforeAll(() => assertBuildIsFresh());
  beforeEach(async () => (redis = await startRedis()));
  afterEach(async () => {
    redis.signal('SIGCONT');
    await service?.stop('SIGKILL');
    await proxy?.close();
    await redis.stop();
    service = proxy = undefined;
  });

  const start = async (url: string) => {
    service = await startService({ REDIS_URL: url, LOG_LEVEL: 'warn' });
    const ready = await probe(service, '/health/ready');
    expect(ready).toEqual({
      status: 200,
      body: expect.objectContaining({
        status: 'ok',
        info: { 'sse-bus': { status: 'up', transport: 'redis' } },
      }),
    });
    return service;
  };

  const expectDown = (answer: Probe) => {
    expect(answer.body.status).toBe('error');
    expect(answer.body.error?.['sse-bus']).toMatchObject({
      status: 'down',
      detail: expect.any(String),
    });
  };

  it('frozen (SIGSTOP): 503, then 200 once it is thawed', async () => {
    const service = await start(redis.url);
    redis.signal('SIGSTOP');
    expectDown(await readyTurns(service, 503, 'ready to fail while Redis is frozen'));
    expect((await probe(service, '/health/live')).status).toBe(200);
    redis.signal('SIGCONT');
    await readyTurns(service, 200, 'ready to pass once Redis is thawed');
  });

  it('killed (SIGKILL): 503, then 200 once it is back; the reconnections are counted', async () => {
    const service = await start(redis.url);
    redis.signal('SIGKILL');
    expectDown(await readyTurns(service, 503, 'ready to fail while Redis is down'));
    expect((await probe(service, '/health/live')).status).toBe(200);
    await redis.restart();
    await readyTurns(service, 200, 'ready to pass once Redis is back');
    const samples = parseSamples(await (await fetch(`${service.url}/metrics`)).text());
    expect(samples.get('sse_bus_redis_reconnects_total')).toBeGreaterThanOrEqual(2);
  });

  it('a reader whose replies stop while its socket stays open: 503, then 200 once they come', async () => {
    proxy = await RedisProxy.start(redis.port);
    const service = await start(proxy.url);
    proxy.hold('reader');
    expectDown(await readyTurns(service, 503, 'ready to fail while the reader gets no reply'));
    proxy.release('reader');
    await readyTurns(service, 200, 'ready to pass once the reader gets its replies');
  });
});
