import { parseEventId } from '../../src/bus/event-id.js';
import { comparePositions } from '../../src/bus/log-position.js';
import type { MessageBus } from '../../src/index.js';
import { RawSseClient } from './sse-client.js';
import type { SseEvent } from './sse-parser.js';

/** What a stream was given after `connected`: topics events and messages, by name and data. */
export const given = (client: RawSseClient): string[] =>
  client.events
    .filter((e: SseEvent) => e.event !== 'connected' && e.data !== undefined)
    .map((e) => `${e.event ?? 'message'} ${e.data}`);

/**
 * Resumes a stream (`resume(i, id)`) from each of `ids` and expects it to be given the rest of
 * what `stayed` was given, up to the last event of `stayed` (a marker in the data).
 */
export async function expectResumesAsStayed(
  stayed: RawSseClient,
  ids: readonly string[],
  resume: (i: number, lastEventId: string) => RawSseClient,
): Promise<void> {
  const at = (id: string) => parseEventId(id)!;
  const expected = given(stayed);
  const stayedEvents = stayed.events.filter((e) => e.event !== 'connected' && e.id);
  const last = stayedEvents.at(-1)!.data;
  for (const [i, id] of ids.entries()) {
    const resumed = resume(i, id);
    await resumed.waitForEvent((e) => e.data === last, `the resume from ${i}`);
    const after = stayedEvents.findIndex((e) => comparePositions(at(e.id!), at(id)) > 0);
    expect(given(resumed)).toEqual(expected.slice(after));
    resumed.close();
  }
}

/**
 * Opens streams of the test app's `/orders/events` (on `topic=base` unless `query` says
 * otherwise) as `user`, each kept in `clients` for the suite to close.
 */
export function streamOpener(clients: RawSseClient[]) {
  return (app: { url: string }, user: string, query = 'topic=base', headers = {}) => {
    const client = new RawSseClient(`${app.url}/orders/events?${query}`, {
      'x-user': user,
      ...headers,
    });
    clients.push(client);
    return client;
  };
}

/**
 * Publishes a broadcast `{ marker: n }` with `bus` and waits for each of `seen` to get it: every
 * instance has read what came before it on the broadcasts' shard.
 */
export async function broadcastMarker(
  bus: MessageBus,
  n: number,
  ...seen: RawSseClient[]
): Promise<void> {
  await bus.publish({ marker: n });
  await Promise.all(
    seen.map((client) =>
      client.waitForEvent((e) => e.data === JSON.stringify({ marker: n }), `marker ${n}`),
    ),
  );
}
