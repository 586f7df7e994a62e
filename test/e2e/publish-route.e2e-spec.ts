import { RawSseClient } from '../support/sse-client.js';
import { type TestApp, startApp } from '../support/test-app.js';

async function post(url: string, body: unknown, token?: string, raw?: string) {
  const response = await fetch(`${url}/sse/publish`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: raw ?? JSON.stringify(body),
  });
  return {
    status: response.status,
    body: (await response.json()) as { id: string; message: string; statusCode: number },
    headers: response.headers,
  };
}

describe('POST /sse/publish', () => {
  describe('without SSE_PUBLISH_TOKEN', () => {
    let app: TestApp;
    beforeAll(async () => (app = await startApp()));
    afterAll(() => app.close());

    it('is off: 404', async () => {
      const { status, body } = await post(app.url, { data: 1 }, 'anything');
      expect(status).toBe(404);
      expect(body).toMatchObject({ statusCode: 404, message: 'Cannot POST /sse/publish' });
    });
  });

  describe('with a publish token', () => {
    let app: TestApp;
    beforeAll(
      async () => (app = await startApp({ publishToken: 'p-token', maxMessageBytes: 1000 })),
    );
    afterAll(() => app.close());

    it('answers 202 with the event id, and the message reaches the clients', async () => {
      const client = new RawSseClient(`${app.url}/sse/msg`);
      const [connected] = await client.waitForEvents(1);
      const clientId = JSON.parse(connected.data!).clientId;
      const { status, body } = await post(
        app.url,
        { data: { a: [1, 'x'] }, clientId, event: 'update' },
        'p-token',
      );
      expect(status).toBe(202);
      expect(body.id).toMatch(/^[A-Za-z0-9_-]+\.\d+-\d+$/);
      await client.waitForEvents(2);
      expect(client.events[1]).toEqual({ id: body.id, event: 'update', data: '{"a":[1,"x"]}' });
      client.close();
    });

    it.each([
      ['no token', undefined],
      ['a wrong token', 'p-tokeN'],
      ['a longer token', 'p-token-and-more'],
    ])('answers 401 for %s', async (_, token) => {
      const { status, body } = await post(app.url, { data: 1 }, token);
      expect(status).toBe(401);
      expect(body.message).toMatch(/publish token/);
    });

    it.each([
      ['a body that is neither an object nor an array', 42, /JSON object/],
      ['a missing data field', { clientId: 'x' }, /"data" is required/],
      ['an unknown field', { data: 1, channel: 'x' }, /Unknown field\(s\): channel/],
      ['a clientId that is a number', { data: 1, clientId: 7 }, /"clientId" must be/],
      ['an empty clientId list', { data: 1, clientId: [] }, /empty list/],
      ['a clientId with a newline', { data: 1, clientId: 'a\nb' }, /control characters/],
      ['a clientId too long', { data: 1, clientId: 'x'.repeat(300) }, /1 to 256/],
      ['an event name with a space', { data: 1, event: 'a b' }, /event must be/],
      ['an event name with a newline', { data: 1, event: 'a\nid: 1' }, /event must be/],
      ['a reserved event name', { data: 1, event: 'reset' }, /reserved/],
      ['an event name too long', { data: 1, event: 'e'.repeat(65) }, /event must be/],
    ])('answers 400 for %s, saying what is wrong', async (_, payload, message) => {
      const { status, body } = await post(app.url, payload, 'p-token');
      expect(status).toBe(400);
      expect(body.message).toMatch(message);
    });

    it('answers 400 for malformed JSON', async () => {
      const { status, body } = await post(app.url, undefined, 'p-token', '{"data": ');
      expect(status).toBe(400);
      expect(typeof body.message).toBe('string');
    });

    it('answers 413 for data over maxMessageBytes, and publish() rejects it', async () => {
      const { status, body } = await post(app.url, { data: 'x'.repeat(1000) }, 'p-token');
      expect(status).toBe(413);
      expect(body.message).toMatch(/1002 bytes.*1000/);
      await expect(app.bus.publish('x'.repeat(1000))).rejects.toThrow('over the limit of 1000');
      await expect(app.bus.publish('x'.repeat(990))).resolves.toMatch(/\./);
    });
  });
});
