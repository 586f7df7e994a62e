import { readFile } from 'node:fs/promises';
import { type ServiceProcess, startService } from '../support/service-process.js';

describe('GET / (the demo page)', () => {
  const services: ServiceProcess[] = [];
  afterAll(() => Promise.all(services.map((service) => service.stop())));

  it('serves the page as UTF-8 HTML under a policy that runs its own inline script and nothing else', async () => {
    const service = await startService();
    services.push(service);
    const response = await fetch(`${service.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const policy = response.headers.get('content-security-policy')!;
    expect(policy).toMatch(/^default-src 'none';/);
    expect(policy).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/]{43}=';/);
    expect(policy).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(await response.text()).toMatch(
      /^<!doctype html>[\s\S]*import \{ connect \} from '\/sse-bus-client.js'[\s\S]*connect\(url\)/,
    );
  });

  it('serves the browser client it imports, as the build bundled it', async () => {
    const service = await startService();
    services.push(service);
    const response = await fetch(`${service.url}/sse-bus-client.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const built = new URL('../../dist/client/sse-bus-client.js', import.meta.url);
    expect(await response.text()).toBe(await readFile(built, 'utf8'));
  });

  it('answers 404 with SSE_DEMO=false', async () => {
    const service = await startService({ SSE_DEMO: 'false' });
    services.push(service);
    expect((await fetch(`${service.url}/`)).status).toBe(404);
  });
});
