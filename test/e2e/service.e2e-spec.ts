import { runService, startService } from '../support/service-process.js';
import { RawSseClient } from '../support/sse-client.js';
import { waitFor } from '../support/wait-for.js';

describe('the service process', () => {
  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ SSE_HEARTBEAT_MS: '-5' }, 'SSE_HEARTBEAT_MS'],
    [{ SSE_MAX_CONNECTIONS: '1.5' }, 'SSE_MAX_CONNECTIONS'],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL'],
    [{ SSE_CORS_ORIGINS: 'https://ok.example, not an origin' }, 'SSE_CORS_ORIGINS'],
    [{ SSE_MAX_BUFFERED_BYTES: '2048', SSE_MAX_MESSAGE_BYTES: '2000' }, 'SSE_MAX_BUFFERED_BYTES'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ SSE_PRESENCE_TTL_MS: '1' }, 'SSE_PRESENCE_TTL_MS'],
    [{ SSE_HISTORY_MAX_AGE_MS: 'a day' }, 'SSE_HISTORY_MAX_AGE_MS'],
    [{ LOG_FORMAT: 'xml' }, 'LOG_FORMAT'],
    [{ SSE_METRICS: 'yes' }, 'SSE_METRICS'],
    [{ SSE_DEMO: 'yes' }, 'SSE_DEMO'],
  ])('refuses to start with %j: one line naming %s', async (env, variable) => {
    const { code, output } = await runService(env);
    expect(code).toBe(1);
    const lines = output.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^${variable}\\b.*expected`));
  });

  it('says so in one line when Redis cannot be reached at start-up', async () => {
    const { code, output } = await runService({
      REDIS_URL: 'redis://127.0.0.1:1',
      LOG_LEVEL: 'error',
    });
    expect(code).toBe(1);
    expect(output.trim().split('\n').pop()).toMatch(/^sse-bus failed to start: Cannot reach Redis/);
  });

  it('on SIGTERM ends open streams with a spread-out retry, refuses new ones, and exits 0', async () => {
    const service = await startService({
      SSE_RETRY_MS: '1000',
      SSE_RECONNECT_JITTER_MS: '4000',
      SSE_SHUTDOWN_MS: '5000',
    });
    const clients = Array.from({ length: 20 }, () => new RawSseClient(`${service.url}/sse/msg`));
    await Promise.all(clients.map((client) => client.waitForEvents(1)));
    const exit = service.stop('SIGTERM');
    await waitFor(() => clients.every((client) => client.ended), 'every stream to end');
    expect(await exit).toBe(0);
    expect(service.output()).toMatch(/Shut down\b/);
    const last = clients.map((client) => client.events[client.events.length - 1]);
    expect(last.every((event) => event.event === 'closing')).toBe(true);
    // The spread travels twice: as the field EventSource reads, and as data for the app.
    expect(last.every((event) => JSON.parse(event.data!).retryMs === event.retry)).toBe(true);
    const retries = last.map((event) => event.retry!);
    for (const retry of retries) {
      expect(retry).toBeGreaterThanOrEqual(1000);
      expect(retry).toBeLessThanOrEqual(5000);
    }
    expect(new Set(retries).size).toBeGreaterThan(5);
    const refused = await fetch(`${service.url}/sse/msg`).then(
      (response) => response.status,
      (err: Error) => err.message,
    );
    expect(refused).toBe('fetch failed');
  });

  it('sends no CORS headers unless SSE_CORS_ORIGINS lists the origin', async () => {
    const closed = await startService();
    const open = await startService({ SSE_CORS_ORIGINS: 'https://app.example' });
    const preflight = (url: string, origin: string) =>
      fetch(`${url}/sse/msg`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'last-event-id',
        },
      });
    const stream = async (url: string, origin: string) => {
      const client = await new RawSseClient(`${url}/sse/msg`, { origin }).opened();
      client.close();
      return client.headers['access-control-allow-origin'];
    };
    expect(await stream(closed.url, 'https://app.example')).toBeUndefined();
    expect(
      (await preflight(closed.url, 'https://app.example')).headers.get(
        'access-control-allow-origin',
      ),
    ).toBeNull();
    expect(await stream(open.url, 'https://evil.example')).toBeUndefined();
    expect(await stream(open.url, 'https://app.example')).toBe('https://app.example');
    const allowed = await preflight(open.url, 'https://app.example');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
    expect(allowed.headers.get('access-control-allow-headers')?.toLowerCase()).toContain(
      'last-event-id',
    );
    await Promise.all([closed.stop(), open.stop()]);
  });
});
