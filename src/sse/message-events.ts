import type { MessageEvent } from '@nestjs/common';
import type { Subscriber } from 'rxjs';
import type { BusEvent } from '../bus/bus-event.js';
import type { StreamSink } from './bus-stream.js';
import type { SocketBacklog } from './socket-backlog.js';
import type { StreamEncoding } from './stream-encoding.js';

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
export const MESSAGE_EVENTS: StreamEncoding<MessageEvent> = {
  // With an id even when the client resumes (Nest would number it otherwise): its own.
  opening: (retryMs, clientId, id) => [
    { type: 'connected', id, retry: retryMs, data: JSON.stringify({ clientId }) },
  ],
  event: (event, id) => {
    const message = messageEventOf(event);
    return id === message.id ? message : { ...message, id };
  },
  heartbeat: { comment: '' },
  closing: (retryMs, lastId) => ({ id: lastId, retry: retryMs }),
  busy: (retryMs, id) => ({ type: 'busy', id, retry: retryMs, data: JSON.stringify({ retryMs }) }),
};

/**
 * Bytes an event takes on the wire, at least: its fields and their names, without the chunk
 * framing. Counting low never cuts off a client that reads; a stalled one is still cut off.
 */
export function wireBytesAtLeast(event: MessageEvent): number {
  const { id, type, data, retry, comment } = event;
  let bytes = 1;
  if (id !== undefined) bytes += id.length + 5;
  if (type !== undefined) bytes += type.length + 8;
  if (typeof data === 'string') bytes += data.length + 7;
  if (retry !== undefined) bytes += 8;
  if (comment !== undefined) bytes += comment.length + 3;
  return bytes;
}

/**
 * Hands a stream's events to Nest, which writes them; with a `backlog` (HTTP/1, where the socket
 * is the stream's own), counts what waits for the client.
 */
export class NestEventSink implements StreamSink<MessageEvent> {
  constructor(
    private readonly subscriber: Subscriber<MessageEvent>,
    private readonly backlog: SocketBacklog | undefined,
  ) {}

  write(event: MessageEvent): boolean {
    this.subscriber.next(event);
    return this.backlog?.add(wireBytesAtLeast(event)) !== true;
  }

  end(): void {
    this.subscriber.complete();
  }

  whenWritable(): Promise<void> | undefined {
    return this.backlog?.whenWritable();
  }
}
