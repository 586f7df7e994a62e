import type { Redis } from 'ioredis';
import { type StreamPosition, comparePositions, parseStreamId } from '../cursor.js';

/**
 * Whether the stream `log` still holds every entry after `position`. Trimming (`MAXLEN`,
 * `MINID`) only ever cuts the oldest entries, and nothing else deletes any: it does as long as
 * its oldest entry is at or before `position`. An empty log may have lost some: no.
 */
export async function holdsEverythingAfter(
  redis: Redis,
  log: string,
  position: StreamPosition,
): Promise<boolean> {
  const [oldest] = await redis.xrange(log, '-', '+', 'COUNT', 1);
  return oldest !== undefined && comparePositions(parseStreamId(oldest[0]), position) <= 0;
}

/**
 * Where a reader goes on from when the log no longer holds `given`, the last entry it read from
 * it (a failover before that entry reached the replica, a restart that lost writes); undefined
 * when it still does. `top` and `hole` are what `SYNC_SCRIPT` answered for `given`.
 */
export function afterLoss(
  given: StreamPosition,
  top: StreamPosition,
  hole: 0 | 1,
): StreamPosition | undefined {
  // The log ends before it: from its end.
  if (comparePositions(top, given) < 0) return top;
  // It was written to since: what follows is still to be read.
  return hole === 1 ? given : undefined;
}
