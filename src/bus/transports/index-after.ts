import type { BusMessage } from '../bus-event.js';
import { type StreamPosition, comparePositions } from '../cursor.js';

/**
 * The index of the first of `messages` after `position`, looking from `from` on (binary search:
 * they are in log order).
 */
export function indexAfter(
  messages: readonly BusMessage[],
  position: StreamPosition,
  from = 0,
): number {
  let low = from;
  let high = messages.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (comparePositions(messages[middle].position, position) <= 0) low = middle + 1;
    else high = middle;
  }
  return low;
}
