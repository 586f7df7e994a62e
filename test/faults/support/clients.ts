import { RawSseClient } from '../../support/sse-client.js';
import type { SseEvent } from '../../support/sse-parser.js';
import { cursorOf } from './ledger.js';
import { tokenFor } from './tokens.js';

/** Event ids stay URL- and header-safe and short (a cross-origin EventSource must not preflight). */
export const EVENT_ID = /^[A-Za-z0-9._-]{1,40}$/;

export type Via = 'header' | 'query';

/**
 * Opens a stream on `baseUrl` for `sub` (a JWT is signed for it), resuming from `lastEventId`
 * when given, sent as the Last-Event-ID header or as `?lastEventId=`.
 */
export async function openStream(
  baseUrl: string,
  sub: string,
  lastEventId?: string,
  via: Via = 'header',
): Promise<RawSseClient> {
  const query = new URLSearchParams({ token: await tokenFor(sub) });
  if (lastEventId !== undefined && via === 'query') query.set('lastEventId', lastEventId);
  const headers: Record<string, string> =
    lastEventId !== undefined && via === 'header' ? { 'last-event-id': lastEventId } : {};
  return new RawSseClient(`${baseUrl}/sse/msg?${query}`, headers);
}

/** Waits for the `connected` frame and returns it. */
export function connected(client: RawSseClient): Promise<SseEvent> {
  return client.waitForEvent((event) => event.event === 'connected', 'the connected frame');
}

/** Frames that carry data (messages, resets, connected), without the `closing` that ends one. */
export function framesOf(...clients: RawSseClient[]): SseEvent[] {
  return clients.flatMap((client) =>
    client.events.filter((event) => event.data !== undefined && event.event !== 'closing'),
  );
}

/** The data of the message frames of `clients`, in order. */
export function dataOf(...clients: RawSseClient[]): string[] {
  return framesOf(...clients)
    .filter((frame) => frame.event !== 'connected' && frame.event !== 'reset')
    .map((frame) => frame.data!);
}

/** Waits until `client` has received a message frame with `data`. */
export function received(
  client: RawSseClient,
  data: string,
  timeoutMs?: number,
): Promise<SseEvent> {
  return client.waitForEvent((event) => event.data === data, `a frame with ${data}`, timeoutMs);
}

/** The epoch part of an event id. */
export function epochOf(id: string): string {
  return cursorOf(id).epoch;
}
