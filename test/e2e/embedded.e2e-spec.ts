import { RawSseClient } from '../support/sse-client.js';
import { type TestApp, startApp } from '../support/test-app.js';

describe('embedded bus', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ heartbeatMs: 200, publishToken: 'secret' });
  });
  afterAll(() => app.close());

  it('sends retry and connected first, then published messages with the bus ids', async () => {
    const client = await new RawSseClient(`${app.url}/sse/msg`).opened();
    expect(client.status).toBe(200);
    expect(client.headers['content-type']).toMatch(/^text\/event-stream/);
    const [retry, connected] = await client.waitForEvents(2);
    expect(retry).toEqual({ retry: 3000 });
    expect(connected.event).toBe('connected');
    const { clientId } = JSON.parse(connected.data!);
    expect(clientId).toMatch(/^[0-9a-f-]{36}$/);
    const id = await app.bus.publish({ hello: 'world' });
    const [message] = await client.waitForEvents(3).then((events) => events.slice(2));
    expect(message).toEqual({ id, data: '{"hello":"world"}' });
    client.close();
  });
});
