import { randomUUID } from 'node:crypto';
import { BusUnavailableError } from '../../errors/bus-unavailable.error.js';
import { appendUntil } from '../../redis/append-until.js';
import { DeadlineExceeded, delay } from '../../redis/deadline.js';
import type { RedisClient } from '../../redis/redis-connection.js';
import type { RedisWatchdog } from '../../redis/redis-watchdog.js';

/**
 * KEYS: the lock. ARGV: token, ttl ms. Takes the lock for the token, or finds it already the
 * token's (a retry after a lost reply); returns 1 then, 0 while another holds it.
 */
const LOCK_SCRIPT = `
local held = redis.call('GET', KEYS[1])
if held == ARGV[1] then return 1 end
if held then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

/** KEYS: the lock. ARGV: token. Lets the lock go if the token still holds it. */
const UNLOCK_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** The lock's scripts as commands of a connection (see `openRedis`). */
export const LOCK_SCRIPTS = {
  sseBusLock: { numberOfKeys: 1, lua: LOCK_SCRIPT },
  sseBusUnlock: { numberOfKeys: 1, lua: UNLOCK_SCRIPT },
};

/** The commands `LOCK_SCRIPTS` define. */
export interface LockScripts {
  sseBusLock(key: string, token: string, ttlMs: string): Promise<0 | 1>;
  sseBusUnlock(key: string, token: string): Promise<0 | 1>;
}

/** How long to wait before asking for a lock another holds again, at most (jittered). */
const RETRY_MS = 10;

/** `<hash tag>:lock:<client id>`: beside the client's membership, in its hash slot. */
export function changeLockKey(hashTag: string, clientId: string): string {
  return `${hashTag}:lock:${clientId}`;
}

/**
 * The lock a change of a client's topics holds on a Redis Cluster, from before it reads the
 * client's membership (the topic limit's check) to its entry on the client's shard: the changes
 * of one client, from every instance, are written one at a time, so their markers on the topics'
 * shards are in the order of their entries on the client's shard (what open streams act on and
 * what new streams start with agree), and a change that passes the limit's check is not refused
 * after its markers are written. The entry's script checks that the lock is still the change's
 * (a holder that stalled past it is refused) and lets it go (see `PUBLISH_SCRIPT`).
 */
export class ClientChangeLock {
  constructor(
    private readonly redis: RedisClient & LockScripts,
    private readonly commands: RedisWatchdog,
    private readonly passing: RegExp,
  ) {}

  /**
   * Takes the lock `key`, waiting while another holds it, until `deadline`: then
   * `BusUnavailableError`, as for a change Redis did not take in time. It lasts until the
   * deadline, the change's own: a holder still writing within its time keeps it, and one whose
   * entry reaches Redis later (its caller already told it failed) is refused.
   */
  async acquire(key: string, deadline: number): Promise<string> {
    const token = randomUUID();
    for (;;) {
      let taken: 0 | 1;
      try {
        taken = await appendUntil(
          deadline,
          (left) => this.commands.ask(this.redis.sseBusLock(key, token, String(left)), left),
          this.passing,
        );
      } catch (err) {
        if (!(err instanceof DeadlineExceeded)) throw err;
        throw new BusUnavailableError(`Change not written in time: ${err.message}`);
      }
      if (taken === 1) return token;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new BusUnavailableError(
          "Change not written in time: the client's other changes held it up",
        );
      }
      // Another change of the client is being written: a few milliseconds, most often.
      await delay(Math.min(RETRY_MS * Math.random(), left));
    }
  }

  /** Lets the lock go if `token` still holds it; for a change whose entry was not written. */
  release(key: string, token: string): void {
    this.commands.ask(this.redis.sseBusUnlock(key, token)).catch(() => undefined);
  }
}
