import { SignJWT } from 'jose';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import { RawSseClient } from '../support/sse-client.js';
import { type TestApp, startApp } from '../support/test-app.js';
import { signToken } from '../support/tokens.js';
import { waitFor } from '../support/wait-for.js';

const SECRET = 'a-test-secret-of-some-length-0123456789';
const TOKEN = 'publish-token';

/** A token of `sub` issued in the second after `ms`: later than a revocation at `ms`. */
function tokenIssuedAfter(sub: string, ms: number): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt(Math.floor(ms / 1000) + 1)
    .setExpirationTime(Math.floor(ms / 1000) + 600)
    .sign(new TextEncoder().encode(SECRET));
}

const isDisconnect = (event: { event?: string }) => event.event === 'disconnect';

describe('steering a client from the server, on two instances over one Redis', () => {
  let redis: RedisServer;
  let a: TestApp;
  let b: TestApp;
  const options = () => ({
    redisUrl: redis.url,
    redisKeyPrefix: 'steering',
    jwtSecret: SECRET,
    publishToken: TOKEN,
    maxStreamsPerClient: 3,
  });
  beforeAll(async () => {
    redis = await startRedis();
    [a, b] = await Promise.all([startApp(options()), startApp(options())]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await redis?.stop();
  });

  const stream = async (app: TestApp, sub: string, headers: Record<string, string> = {}) =>
    new RawSseClient(`${app.url}/sse/msg?token=${await signToken(SECRET, sub)}`, headers);
  const connected = async (client: RawSseClient) => {
    await client.waitForEvents(1);
    return client;
  };
  const disconnect = (clientId: string, query = '', token = TOKEN) =>
    fetch(`${b.url}/sse/clients/${encodeURIComponent(clientId)}/streams${query}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });

  it('ends every stream of the client on both instances with disconnect and its reason, and no other', async () => {
    const alice = await Promise.all([
      stream(a, 'alice'),
      stream(b, 'alice'),
      Promise.resolve(new RawSseClient(`${b.url}/orders/events`, { 'x-user': 'alice' })),
    ]).then((clients) => Promise.all(clients.map(connected)));
    const bob = await connected(await stream(a, 'bob'));

    expect((await disconnect('alice', '?reason=logged%20out')).status).toBe(202);

    for (const client of alice) {
      const last = await client.waitForEvent(isDisconnect, 'the disconnect');
      expect(JSON.parse(last.data!)).toEqual({ reason: 'logged out' });
      await waitFor(() => client.ended, 'the stream to end');
      expect(client.events.at(-1)).toBe(last);
    }
    expect(bob.events.some(isDisconnect)).toBe(false);
    await a.bus.publish({ to: 'bob' }, { clientId: 'bob' });
    await bob.waitForEvent((event) => event.data === '{"to":"bob"}', 'a message after');
    expect(bob.ended).toBe(false);
    bob.close();
  });

  it('is not replayed to a stream that resumes from before it', async () => {
    const first = await connected(await stream(a, 'carol'));
    const before = first.lastId!;
    await b.bus.disconnect('carol');
    await waitFor(() => first.ended, 'the stream to end');

    const resumed = await stream(b, 'carol', { 'last-event-id': before });
    await resumed.waitForEvents(1);
    const id = await a.bus.publish({ after: true }, { clientId: 'carol' });
    const message = await resumed.waitForEvent((event) => event.id === id, 'the message after');
    expect(message.data).toBe('{"after":true}');
    expect(resumed.events.some(isDisconnect)).toBe(false);
    expect(resumed.ended).toBe(false);
    resumed.close();
  });

  it('refuses new streams during a block with 204 on every instance, one started since too, until unblocked', async () => {
    const open = await connected(await stream(a, 'dave'));
    expect((await disconnect('dave', '?blockMs=600000&reason=banned')).status).toBe(202);
    await waitFor(() => open.ended, 'the stream to end');

    // An instance that was not there for the push finds the block in Redis when a stream opens.
    const c = await startApp(options());
    try {
      for (const app of [a, b, c]) {
        const refused = await (await stream(app, 'dave')).opened();
        expect(refused.status).toBe(204);
        await waitFor(() => refused.ended, 'the refusal to end');
        expect(refused.raw).toBe('');
      }
      await a.bus.unblock('dave');
      const again = await connected(await stream(c, 'dave'));
      expect(again.status).toBe(200);
      again.close();
    } finally {
      await c.close();
    }
  });

  it('refuses the tokens issued before a revocation with 401 on every instance, and takes one issued after', async () => {
    const old = await signToken(SECRET, 'erin');
    const open = await connected(new RawSseClient(`${a.url}/sse/msg?token=${old}`));
    const revokedAt = Date.now();
    expect((await disconnect('erin', '?revokeTokens=true')).status).toBe(202);
    await waitFor(() => open.ended, 'the stream to end');

    for (const app of [a, b]) {
      const refused = await fetch(`${app.url}/sse/msg?token=${old}`);
      expect(refused.status).toBe(401);
      expect(((await refused.json()) as { message: string }).message).toMatch(/revoked/);
    }
    const fresh = await tokenIssuedAfter('erin', revokedAt);
    const admitted = await connected(new RawSseClient(`${b.url}/sse/msg?token=${fresh}`));
    expect(admitted.status).toBe(200);
    admitted.close();
  });

  it('counts the streams of a client over both instances: past the limit, 429; those open stay', async () => {
    const open = await Promise.all([stream(a, 'frank'), stream(a, 'frank'), stream(b, 'frank')]);
    await Promise.all(open.map(connected));

    for (const app of [a, b]) {
      const refused = await fetch(`${app.url}/sse/msg?token=${await signToken(SECRET, 'frank')}`);
      expect(refused.status).toBe(429);
      expect(((await refused.json()) as { message: string }).message).toMatch(/3 streams open/);
    }
    const id = await b.bus.publish({ still: 'open' }, { clientId: 'frank' });
    await Promise.all(open.map((client) => client.waitForEvent((e) => e.id === id, 'a message')));

    open[0].close();
    await waitFor(() => a.bus.subscriberCount === 1, 'the stream to close');
    const next = await connected(await stream(a, 'frank'));
    expect(next.status).toBe(200);
    [next, ...open].forEach((client) => client.close());
  });

  it('answers the route 401 without the token and 400 for bad parameters', async () => {
    expect((await disconnect('gina', '', 'wrong')).status).toBe(401);
    for (const query of ['?blockMs=soon', '?revokeTokens=yes', '?reason=', '?other=1']) {
      const answer = await disconnect('gina', query);
      expect(answer.status).toBe(400);
      expect(((await answer.json()) as { message: string }).message).toMatch(
        /blockMs|revokeTokens|reason|other/,
      );
    }
  });
});

describe('disconnect on the embedded bus', () => {
  let app: TestApp;
  beforeAll(async () => (app = await startApp()));
  afterAll(() => app.close());

  it('ends an own @Sse() stream too, blocks in memory, and has no route without a publish token', async () => {
    const own = new RawSseClient(`${app.url}/orders/events`, { 'x-user': 'hank' });
    await own.waitForEvents(1);
    await app.bus.disconnect('hank', { blockMs: 600_000, reason: 'banned' });
    const last = await own.waitForEvent(isDisconnect, 'the disconnect');
    expect(JSON.parse(last.data!)).toEqual({ reason: 'banned' });
    await waitFor(() => own.ended, 'the stream to end');

    const again = new RawSseClient(`${app.url}/orders/events`, { 'x-user': 'hank' });
    const blocked = await again.waitForEvent(isDisconnect, 'the refusal');
    expect(JSON.parse(blocked.data!)).toEqual({ reason: 'blocked' });
    await app.bus.unblock('hank');
    const admitted = new RawSseClient(`${app.url}/orders/events`, { 'x-user': 'hank' });
    expect((await admitted.waitForEvents(1))[0].event).toBe('connected');
    admitted.close();

    const answer = await fetch(`${app.url}/sse/clients/hank/streams`, { method: 'DELETE' });
    expect(answer.status).toBe(404);
    await expect(app.bus.disconnect('hank', { blockMs: -1 })).rejects.toThrow(/blockMs/);
  });
});
