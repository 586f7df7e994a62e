import type { Redis } from 'ioredis';

/** Script calls Redis has run so far (`EVALSHA`, and `EVAL` when the script was not loaded). */
export async function scriptCalls(client: Redis): Promise<number> {
  const stats = await client.info('commandstats');
  return [...stats.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)].reduce(
    (sum, match) => sum + Number(match[1]),
    0,
  );
}
