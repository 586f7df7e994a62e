import { setTimeout as delay } from 'node:timers/promises';
import type { TestApp } from '../../support/test-app.js';
import { waitFor } from '../../support/wait-for.js';
import {
  SOAK_CATCH_UP_MS,
  SOAK_CLIENTS,
  SOAK_MAX_AWAY_MS,
  SOAK_MAX_CONNECTED_MS,
  SOAK_MESSAGES,
  SOAK_RATE,
  WAIT_MS,
} from './fault-config.js';
import { CLEAN, Ledger, type Publish, total } from './ledger.js';
import { ResumingClient } from './resuming-client.js';
import { tokenFor } from './tokens.js';

const random = (max: number) => Math.floor(Math.random() * (max + 1));
const pick = <T>(items: readonly T[]): T => items[random(items.length - 1)];

/**
 * Clients come and go at random, to any of `apps`, while messages flow; each comes back with its
 * Last-Event-ID. Every client is owed every acknowledged message it may see from its first
 * `connected` frame on: none may be lost, repeated or out of order. `sharded`: the bus is on a
 * sharded log, where ids are each stream's own. Returns the clients, for the caller to end.
 */
export async function soak(apps: readonly TestApp[], sharded = false): Promise<ResumingClient[]> {
  const started = Date.now();
  // Three tabs per user, say: several connections share a client id.
  const users = Array.from(
    { length: Math.max(1, Math.ceil(SOAK_CLIENTS / 3)) },
    (_, i) => `user-${i}`,
  );
  const clients = await Promise.all(
    Array.from({ length: SOAK_CLIENTS }, async (_, i) => {
      const user = users[i % users.length];
      return new ResumingClient(user, await tokenFor(user));
    }),
  );
  const ledger = new Ledger('soak');
  const publishers: Publish[] = apps.map(
    (app) => (data, options) => app.bus.publish(data, options),
  );

  let churning = true;
  const churn = async (client: ResumingClient) => {
    // Spread the first connections over the first second.
    await delay(random(1_000));
    while (churning) {
      client.connect(pick(apps).url, Math.random() < 0.3 ? 'query' : 'header');
      await delay(50 + random(SOAK_MAX_CONNECTED_MS));
      if (!churning) break;
      client.disconnect();
      await delay(random(SOAK_MAX_AWAY_MS));
    }
  };
  const churns = clients.map(churn);
  await waitFor(
    () => clients.every((client) => client.since),
    'every client to connect once',
    SOAK_CATCH_UP_MS,
  );

  // Publishes at the rate asked, without waiting for one publish before the next.
  const publishes: Promise<unknown>[] = [];
  for (let i = 0; i < SOAK_MESSAGES; i++) {
    const to =
      Math.random() < 0.6 ? undefined : [pick(users), ...(i % 2 ? [pick(users)] : []), 'nobody'];
    publishes.push(ledger.publish(publishers[i % 2], to));
    await delay(1_000 / SOAK_RATE);
  }
  await Promise.all(publishes);
  churning = false;
  await Promise.all(churns);
  const last = await ledger.publish(publishers[0]);
  const caughtUp = waitFor(
    () => {
      // Back at once, where EventSource would wait `retry`: whoever was away, or was let go.
      for (const client of clients) {
        if (!client.connected) client.connect(pick(apps).url, 'header');
      }
      return clients.every((client) => client.has(last.data));
    },
    'every client to catch up',
    SOAK_CATCH_UP_MS,
  );
  const failure = await caughtUp.then(
    () => undefined,
    (err: Error) => err,
  );

  const audit = total(
    clients.map((client) => ledger.audit(client.clientId, client.frames, client.since!, sharded)),
  );
  const connections = clients.reduce((sum, client) => sum + client.connections, 0);
  const refused = clients.reduce((sum, client) => sum + client.refused, 0);
  const ended = clients.reduce((sum, client) => sum + client.endedByServer, 0);
  console.log(
    `published=${ledger.sent.length} acknowledged=${ledger.acknowledged.length} received=${audit.received} ` +
      `lost=${audit.lost} duplicated=${audit.duplicated} out-of-order=${audit.outOfOrder}\n` +
      `clients=${clients.length} connections=${connections} refused=${refused} ended-by-server=${ended} resets=${audit.resets} ` +
      `unexpected=${audit.unexpected} seconds=${((Date.now() - started) / 1000).toFixed(1)}` +
      (audit.problems.length ? `\n${audit.problems.join('\n')}` : ''),
  );
  expect(failure).toBeUndefined();
  expect(ledger.acknowledged).toHaveLength(ledger.sent.length);
  expect(audit).toMatchObject(CLEAN);
  expect(refused).toBe(0);

  // Thousands of connections later, nothing is left subscribed.
  clients.forEach((client) => client.disconnect());
  await waitFor(
    () => apps.every((app) => app.bus.subscriberCount === 0),
    'every subscription to end',
    WAIT_MS,
  );
  return clients;
}
