import { setTimeout as delay } from 'node:timers/promises';
import { BusUnavailableError } from '../../src/index.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import type { RawSseClient } from '../support/sse-client.js';
import { type TestApp, startApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';
import { connected, framesOf, openStream, received } from './support/clients.js';
import {
  FREEZE_EXTRA_MS,
  HEARTBEAT_MS,
  LONG_PUBLISH_TIMEOUT_MS,
  SHORT_PUBLISH_TIMEOUT_MS,
  WAIT_MS,
} from './support/fault-config.js';
import { Ledger, type Publish, total, CLEAN } from './support/ledger.js';
import { JWT_SECRET } from './support/tokens.js';

const SUBS = ['ann', 'ben', 'cat', 'dan'];
const target = (i: number) => (i % 3 ? undefined : [SUBS[i % 4]]);

/**
 * A frozen Redis keeps its sockets open and answers nothing: no connection error tells the
 * instances, only their own deadlines (the reader's watchdog: XREAD's block time plus the
 * command timeout, ~5 s with the module's constants).
 */
describe('Redis frozen (SIGSTOP) and thawed (SIGCONT)', () => {
  let redis: RedisServer;
  let a: TestApp;
  let b: TestApp;
  let clients: RawSseClient[] = [];
  beforeAll(async () => {
    redis = await startRedis();
    const options = {
      redisUrl: redis.url,
      redisKeyPrefix: 'faults-freeze',
      jwtSecret: JWT_SECRET,
      heartbeatMs: HEARTBEAT_MS,
    };
    a = await startApp({ ...options, publishTimeoutMs: SHORT_PUBLISH_TIMEOUT_MS });
    b = await startApp({ ...options, publishTimeoutMs: LONG_PUBLISH_TIMEOUT_MS });
  });
  afterAll(async () => {
    redis?.signal('SIGCONT');
    clients.forEach((client) => client.close());
    await Promise.all([a?.close(), b?.close()]);
    await redis?.stop();
  });

  it('keeps streams open and beating, says it cannot read, fails publishes that cannot wait, loses nothing acknowledged', async () => {
    const ledger = new Ledger('freeze');
    const onA: Publish = (data, opts) => a.bus.publish(data, opts);
    const onB: Publish = (data, opts) => b.bus.publish(data, opts);
    clients = await Promise.all(SUBS.map((sub, i) => openStream(i < 2 ? a.url : b.url, sub)));
    const since = (await Promise.all(clients.map(connected))).map((event) => event.id!);
    for (let i = 0; i < 20; i++) await ledger.publish(i % 2 ? onA : onB, target(i));

    redis.signal('SIGSTOP');
    const beats = clients.map((client) => client.comments);
    // A gives up after its short publishTimeoutMs. Its command sits in the frozen Redis's
    // socket, though: it may still land after the thaw (at most once).
    const givenUp = await ledger.publish(onA, ['ann']);
    expect(givenUp.error).toBeInstanceOf(BusUnavailableError);
    // B waits long enough to outlive the freeze.
    const waiting = [0, 1, 2].map((i) => ledger.publish(onB, target(i)));
    await waitFor(
      () => !a.bus.health().reading && !b.bus.health().reading,
      'both instances to notice',
      WAIT_MS,
    );
    expect(a.bus.health().detail).toEqual(expect.any(String));
    await waitFor(
      () => clients.every((client, i) => client.comments >= beats[i] + 3),
      'heartbeats while Redis is frozen',
      WAIT_MS,
    );
    expect(clients.map((client) => client.ended)).toEqual(clients.map(() => false));
    if (FREEZE_EXTRA_MS > 0) await delay(FREEZE_EXTRA_MS);
    expect(ledger.pending).toHaveLength(waiting.length);

    redis.signal('SIGCONT');
    await waitFor(
      () => a.bus.health().reading && b.bus.health().reading,
      'both instances to read again',
      WAIT_MS,
    );
    await Promise.all(waiting);
    expect(ledger.rejected.map((m) => m.n)).toEqual([givenUp.n]);
    for (let i = 0; i < 20; i++) await ledger.publish(i % 2 ? onA : onB, target(i));
    const last = await ledger.publish(onB);
    await Promise.all(clients.map((client) => received(client, last.data, WAIT_MS)));

    const audit = total(
      clients.map((client, i) => ledger.audit(SUBS[i], framesOf(client), since[i])),
    );
    expect(audit).toMatchObject(CLEAN);
    expect(clients.map((client) => client.ended)).toEqual(clients.map(() => false));
  });
});
