import type { BusEvent } from './bus-event.js';
import type { OutgoingMessage } from './bus-transport.js';

/** The event that ends a client's streams: the bus's own, which no publisher may send. */
export const DISCONNECT_EVENT = 'disconnect';

/**
 * The entry that ends every open stream of `clientId` on every instance: addressed to the
 * client like a message, so it reaches the same streams the same way, found by its client id.
 */
export function disconnectEntry(clientId: string, reason: string): OutgoingMessage {
  return {
    to: [clientId],
    topics: null,
    event: DISCONNECT_EVENT,
    data: JSON.stringify({ reason }),
  };
}

/**
 * Whether `event` ends the streams it reaches. Only live: a stream that resumes from before one
 * was opened after it, and a replay skips it (see `resume`).
 */
export function isDisconnect(event: BusEvent): boolean {
  return event.kind === 'message' && event.event === DISCONNECT_EVENT;
}
