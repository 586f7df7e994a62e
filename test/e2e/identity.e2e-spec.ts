import { RawSseClient } from '../support/sse-client.js';
import { type TestApp, startApp } from '../support/test-app.js';
import { signToken, unsignedToken } from '../support/tokens.js';
import { waitFor } from '../support/wait-for.js';

const SECRET = 'a-test-secret-of-some-length-0123456789';

describe('identity from a JWT', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ jwtSecret: SECRET, jwtCookie: 'sse' });
  });
  afterAll(() => app.close());

  const connectedAs = async (client: RawSseClient) => {
    const [connected] = await client.waitForEvents(1);
    return JSON.parse(connected.data!).clientId;
  };

  it('takes the client id from the sub of a token in the query, a Bearer header or the cookie', async () => {
    const viaQuery = new RawSseClient(`${app.url}/sse/msg?token=${await signToken(SECRET, 'q')}`);
    const viaHeader = new RawSseClient(`${app.url}/sse/msg`, {
      authorization: `Bearer ${await signToken(SECRET, 'h')}`,
    });
    const viaCookie = new RawSseClient(`${app.url}/sse/msg`, {
      cookie: `other=1; sse=${await signToken(SECRET, 'c')}`,
    });
    expect(await Promise.all([viaQuery, viaHeader, viaCookie].map(connectedAs))).toEqual([
      'q',
      'h',
      'c',
    ]);
    [viaQuery, viaHeader, viaCookie].forEach((client) => client.close());
  });

  it.each([
    ['no token', () => Promise.resolve('')],
    ['a forged token', () => signToken('another-secret-entirely-0123456789', 'alice')],
    ['an expired token', () => signToken(SECRET, 'alice', -60)],
    ['an unsigned (alg none) token', () => Promise.resolve(unsignedToken('alice'))],
    ['garbage', () => Promise.resolve('not.a.token')],
  ])('answers 401 with a JSON error and no stream for %s', async (_, token) => {
    const value = await token();
    const client = await new RawSseClient(
      `${app.url}/sse/msg${value ? `?token=${value}` : ''}`,
    ).opened();
    expect(client.status).toBe(401);
    expect(client.headers['content-type']).toMatch(/application\/json/);
    await waitFor(() => client.ended, 'the end of the response');
    const body = JSON.parse(client.raw);
    expect(body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    expect(typeof body.message).toBe('string');
    expect(app.bus.subscriberCount).toBe(0);
  });

  it('ends a stream when its token expires, after which the token is refused', async () => {
    const token = await signToken(SECRET, 'short-lived', 1);
    const client = new RawSseClient(`${app.url}/sse/msg?token=${token}`);
    expect(await connectedAs(client)).toBe('short-lived');
    await waitFor(() => client.ended, 'the stream to end at expiry', 5000);
    const last = client.events[client.events.length - 1];
    expect(last).toMatchObject({ event: 'closing', retry: expect.any(Number) });
    expect(last.retry).toBeGreaterThan(0);
    const again = await new RawSseClient(`${app.url}/sse/msg?token=${token}`).opened();
    expect(again.status).toBe(401);
  });

  it('delivers a targeted message to every connection of that client and to nobody else', async () => {
    const tab1 = new RawSseClient(`${app.url}/sse/msg?token=${await signToken(SECRET, 'alice')}`);
    const tab2 = new RawSseClient(`${app.url}/sse/msg?token=${await signToken(SECRET, 'alice')}`);
    const bob = new RawSseClient(`${app.url}/sse/msg?token=${await signToken(SECRET, 'bob')}`);
    await Promise.all([tab1, tab2, bob].map(connectedAs));
    const forAlice = await app.bus.publish({ to: 'alice' }, { clientId: 'alice' });
    const forBoth = await app.bus.publish({ to: 'both' }, { clientId: ['alice', 'bob', 'alice'] });
    await Promise.all([tab1.waitForEvents(3), tab2.waitForEvents(3), bob.waitForEvents(2)]);
    for (const tab of [tab1, tab2]) {
      expect(tab.events.slice(1)).toEqual([
        { id: forAlice, data: '{"to":"alice"}' },
        { id: forBoth, data: '{"to":"both"}' },
      ]);
    }
    // Bob got the second one only; a later broadcast proves nothing else was on its way.
    const broadcast = await app.bus.publish('all');
    await bob.waitForEvents(3);
    expect(bob.events.slice(1).map((event) => event.id)).toEqual([forBoth, broadcast]);
    [tab1, tab2, bob].forEach((client) => client.close());
  });
});
