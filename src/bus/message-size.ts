import type { BusMessage } from './bus-event.js';

type Content = Pick<BusMessage, 'to' | 'topics' | 'event' | 'data'>;

/**
 * What a message costs in memory beyond the bytes of its strings: the object, its id and
 * position, its lists. Estimated high, so that a store over many small messages stays in bounds.
 */
const MESSAGE_OVERHEAD = 256;
/** A string's header and its slot in a list: what a client id or topic costs beyond its bytes. */
const NAME_OVERHEAD = 32;

/** UTF-8 bytes of the message: its data, client ids, topics and event name. */
export function contentBytes({ to, topics, event, data }: Content): number {
  let bytes = Buffer.byteLength(data) + (event?.length ?? 0);
  for (const name of to ?? []) bytes += Buffer.byteLength(name);
  for (const name of topics ?? []) bytes += Buffer.byteLength(name);
  return bytes;
}

/**
 * What a store holding the message counts for it: its content and an estimate of the rest, so
 * that a message of many short names counts about what it takes.
 */
export function heldBytes(message: Content): number {
  const names = (message.to?.length ?? 0) + (message.topics?.length ?? 0);
  return contentBytes(message) + MESSAGE_OVERHEAD + names * NAME_OVERHEAD;
}
