import { type ServiceProcess, startService } from '../support/service-process.js';

describe('the service health routes, on the embedded bus', () => {
  let service: ServiceProcess;
  beforeAll(async () => (service = await startService()));
  afterAll(() => service.stop());

  it('GET /health/live: 200 while the process is up', async () => {
    const response = await fetch(`${service.url}/health/live`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok' });
  });

  it('GET /health/ready: 200, the embedded bus is always up', async () => {
    const response = await fetch(`${service.url}/health/ready`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      status: 'ok',
      info: { 'sse-bus': { status: 'up', transport: 'memory' } },
    });
  });
});
