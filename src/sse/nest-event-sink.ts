import type { MessageEvent } from '@nestjs/common';
import type { Subscriber } from 'rxjs';
import type { StreamSink } from './bus-stream.js';
import type { SocketBacklog } from './socket-backlog.js';

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

/**
 * Bytes an event takes on the wire, at least: its fields and their names, without the chunk
 * framing. Counting low never cuts off a client that reads; a stalled one is still cut off.
 */
function wireBytesAtLeast(event: MessageEvent): number {
  const { id, type, data, retry, comment } = event;
  let bytes = 1;
  if (id !== undefined) bytes += id.length + 5;
  if (type !== undefined) bytes += type.length + 8;
  if (typeof data === 'string') bytes += data.length + 7;
  if (retry !== undefined) bytes += 8;
  if (comment !== undefined) bytes += comment.length + 3;
  return bytes;
}
