import { RawSseClient } from '../support/sse-client.js';
import { type TestApp, startApp } from '../support/test-app.js';
import { signToken } from '../support/tokens.js';
import { waitFor } from '../support/wait-for.js';

const SECRET = 'a-test-secret-of-some-length-0123456789';

async function publish(url: string, body: unknown) {
  const response = await fetch(`${url}/sse/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer p' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

const messagesOf = (client: RawSseClient) =>
  client.events.filter((event) => event.event === undefined && event.data).map((e) => e.data);

describe('topics on GET /sse/msg, anonymous', () => {
  let app: TestApp;
  beforeAll(async () => (app = await startApp({ publishToken: 'p' })));
  afterAll(() => app.close());

  it('subscribes with ?topic= (repeated): a stream gets its topics, broadcasts and its own', async () => {
    const both = new RawSseClient(`${app.url}/sse/msg?topic=a&topic=b/1`);
    const plain = new RawSseClient(`${app.url}/sse/msg`);
    await Promise.all([both.waitForEvents(1), plain.waitForEvents(1)]);
    for (const body of [
      { data: 'a', topic: 'a' },
      { data: 'a and b', topic: ['a', 'b/1'] },
      { data: 'c', topic: 'c' },
      { data: 'all' },
    ]) {
      expect((await publish(app.url, body)).status).toBe(202);
    }
    await both.waitForEvents(4);
    await plain.waitForEvents(2);
    expect(messagesOf(both)).toEqual(['"a"', '"a and b"', '"all"']);
    expect(messagesOf(plain)).toEqual(['"all"']);
    [both, plain].forEach((client) => client.close());
  });

  it.each([
    ['?topic=', /topic: topic "" must be 1 to 128 of/],
    ['?topic=a%0Aid:%201', /must be 1 to 128 of/],
    ['?topic={tag}', /must be 1 to 128 of/],
    [`?topic=${'x'.repeat(129)}`, /must be 1 to 128 of/],
    [`?${Array.from({ length: 33 }, (_, n) => `topic=t${n}`).join('&')}`, /at most 32 topics/],
  ])('answers 400 with a JSON message for %s', async (query, message) => {
    const response = await fetch(`${app.url}/sse/msg${query}`);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toMatch(message);
    expect(app.bus.subscriberCount).toBe(0);
  });

  it.each([
    [{ data: 1, topic: 'two words' }, /must be 1 to 128 of/],
    [{ data: 1, topic: [] }, /empty list/],
    [{ data: 1, topic: 5 }, /"topic" must be a string or an array of strings/],
    [{ data: 1, topic: ['ok', 5] }, /"topic" must be a string or an array of strings/],
  ])('refuses a publish of %p with 400', async (body, message) => {
    const { status, body: answer } = await publish(app.url, body);
    expect(status).toBe(400);
    expect(answer.message).toMatch(message);
  });
});

describe('topics with SSE_JWT_SECRET', () => {
  let app: TestApp;
  beforeAll(async () => (app = await startApp({ jwtSecret: SECRET, jwtTopicsClaim: 'scopes' })));
  afterAll(() => app.close());

  const stream = async (claims: Record<string, unknown>, topics: string[]) => {
    const query = new URLSearchParams([
      ['token', await signToken(SECRET, 'alice', 600, claims)],
      ...topics.map((topic) => ['topic', topic] as [string, string]),
    ]);
    return new RawSseClient(`${app.url}/sse/msg?${query}`).opened();
  };

  it('lets a stream subscribe to the topics its claim grants, by exact name or prefix*', async () => {
    const client = await stream({ scopes: ['news', 'orders/*'] }, ['news', 'orders/42']);
    expect(client.status).toBe(200);
    await client.waitForEvents(1);
    await app.bus.publish('order', { topic: 'orders/42' });
    await app.bus.publish('other order', { topic: 'orders/43' });
    await app.bus.publish('news', { topic: 'news', clientId: 'alice' });
    await client.waitForEvents(3);
    expect(messagesOf(client)).toEqual(['"order"', '"news"']);
    client.close();
  });

  it.each([
    [{ scopes: ['news', 'orders/*'] }, ['news', 'sport'], 'sport'],
    [{ scopes: ['orders/*'] }, ['orders'], 'orders'],
    [{ topics: ['news'] }, ['news'], 'news'],
    [{}, ['news'], 'news'],
  ])('answers 403 naming the topic the token %p does not grant', async (claims, topics, denied) => {
    const client = await stream(claims, topics);
    expect(client.status).toBe(403);
    await waitFor(() => client.ended, 'the end of the response');
    const body = JSON.parse(client.raw);
    expect(body).toMatchObject({ statusCode: 403 });
    expect(body.message).toContain(`"${denied}"`);
  });

  it('answers 401 for a topics claim that is not a list of names', async () => {
    const client = await stream({ scopes: 'news' }, []);
    expect(client.status).toBe(401);
  });
});
