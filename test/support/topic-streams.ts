import { parseEventId } from '../../src/bus/event-id.js';
import { comparePositions } from '../../src/bus/log-position.js';
import type { RawSseClient } from './sse-client.js';
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
