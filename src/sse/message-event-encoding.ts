import type { MessageEvent } from '@nestjs/common';
import type { BusEvent } from '../bus/bus-event.js';
import { type StreamEncoding, topicsData } from './stream-encoding.js';

const events = new WeakMap<BusEvent, MessageEvent>();

function messageEventOf(event: BusEvent): MessageEvent {
  let message = events.get(event);
  if (!message) {
    // `data` stays the JSON text it is: Nest writes a string as it is.
    message =
      event.kind === 'message'
        ? { id: event.id, type: event.event, data: event.data }
        : { id: event.id, type: 'reset', data: JSON.stringify({ reason: event.reason }) };
    events.set(event, message);
  }
  return message;
}

/**
 * An app's own `@Sse()` stream, as `MessageEvent`s for Nest to write. Nest numbers every event
 * that has no id but a comment, so each carries a bus id: `retry` rides on `connected` and on
 * the last id sent, and the heartbeat is a bare comment.
 */
export const MESSAGE_EVENT_ENCODING: StreamEncoding<MessageEvent> = {
  // With an id even when the client resumes (Nest would number it otherwise): its own.
  opening: (retryMs, clientId, id) => [
    { type: 'connected', id, retry: retryMs, data: JSON.stringify({ clientId }) },
  ],
  event: (event, id) => {
    const message = messageEventOf(event);
    return id === message.id ? message : { ...message, id };
  },
  topics: (topics, id) => ({ type: 'topics', id, data: topicsData(topics) }),
  heartbeat: { comment: '' },
  closing: (retryMs, lastId) => ({
    type: 'closing',
    id: lastId,
    retry: retryMs,
    data: JSON.stringify({ retryMs }),
  }),
  busy: (retryMs, id) => ({ type: 'busy', id, retry: retryMs, data: JSON.stringify({ retryMs }) }),
};
