import { type RedisServer, startRedis } from '../support/redis-server.js';
import { type ServiceProcess, startService } from '../support/service-process.js';
import type { RawSseClient } from '../support/sse-client.js';
import { waitFor } from '../support/wait-for.js';
import { assertBuildIsFresh } from './support/built.js';
import { connected, framesOf, openStream, received } from './support/clients.js';
import { HEARTBEAT_MS, WAIT_MS } from './support/fault-config.js';
import { Ledger, type Publish, total, CLEAN } from './support/ledger.js';
import { JWT_SECRET } from './support/tokens.js';

const PUBLISH_TOKEN = 'faults-publish-token';
const SUBS = ['ann', 'ben', 'cat', 'dan', 'eve', 'fay'];

/** Publishes through `POST /sse/publish` of `service`; resolves to the id once it answers 202. */
function through(service: ServiceProcess): Publish {
  return async (data, options) => {
    const response = await fetch(`${service.url}/sse/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${PUBLISH_TOKEN}` },
      body: JSON.stringify({ data, ...options }),
    });
    const body = (await response.json()) as { id?: string; message?: string };
    if (response.status !== 202) throw new Error(`${response.status}: ${body.message}`);
    return body.id!;
  };
}

describe('an instance killed (SIGKILL) under its clients', () => {
  let redis: RedisServer;
  let a: ServiceProcess;
  let b: ServiceProcess;
  const clients: RawSseClient[] = [];
  let publishing = false;
  beforeAll(async () => {
    assertBuildIsFresh();
    redis = await startRedis();
    const env = {
      REDIS_URL: redis.url,
      SSE_REDIS_PREFIX: 'faults-loss',
      SSE_JWT_SECRET: JWT_SECRET,
      SSE_PUBLISH_TOKEN: PUBLISH_TOKEN,
      SSE_HEARTBEAT_MS: String(HEARTBEAT_MS),
      LOG_LEVEL: 'warn',
    };
    // One after the other: if the second cannot start, afterAll still stops the first.
    a = await startService(env);
    b = await startService(env);
  });
  afterAll(async () => {
    publishing = false;
    clients.forEach((client) => client.close());
    await Promise.all([a?.stop('SIGKILL'), b?.stop('SIGKILL')]);
    await redis?.stop();
  });

  it('lets its clients resume on the other instance with their Last-Event-ID, missing nothing', async () => {
    const ledger = new Ledger('loss');
    const first = await Promise.all(SUBS.map((sub) => openStream(a.url, sub)));
    clients.push(...first);
    const since = (await Promise.all(first.map(connected))).map((event) => event.id!);
    const viaA = through(a);
    const viaB = through(b);
    let aAlive = true;
    publishing = true;
    // Publishes the whole time, through both while A lives, then through B.
    const publisher = (async () => {
      for (let i = 0; publishing; i++) {
        const to = i % 3 ? undefined : [SUBS[i % SUBS.length], ...(i % 2 ? [] : ['nobody'])];
        await ledger.publish(aAlive && i % 2 ? viaA : viaB, to);
      }
    })();
    let second: RawSseClient[] = [];
    try {
      await waitFor(() => ledger.acknowledged.length >= 30, 'messages before the kill', WAIT_MS);
      aAlive = false;
      expect(await a.stop('SIGKILL')).toBeNull();
      await waitFor(
        () => first.every((client) => client.ended),
        'the streams of A to end',
        WAIT_MS,
      );
      const acknowledgedAtKill = ledger.acknowledged.length;
      // Like EventSource: back with the id of the last event received; some in the query.
      second = await Promise.all(
        first.map((client, i) =>
          openStream(b.url, SUBS[i], client.lastId, i % 2 ? 'query' : 'header'),
        ),
      );
      clients.push(...second);
      await Promise.all(second.map(connected));
      await waitFor(
        () => ledger.acknowledged.length >= acknowledgedAtKill + 30,
        'messages after the clients came back',
        WAIT_MS,
      );
    } finally {
      publishing = false;
      await publisher;
    }
    const last = await ledger.publish(viaB);
    await Promise.all(second.map((client) => received(client, last.data, WAIT_MS)));

    const audits = SUBS.map((sub, i) => ledger.audit(sub, framesOf(first[i], second[i]), since[i]));
    expect(total(audits)).toMatchObject(CLEAN);
    expect(b.output()).not.toMatch(/"level":"error"/);
  });
});
