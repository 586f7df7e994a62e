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
