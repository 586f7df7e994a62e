import { randomUUID } from 'node:crypto';
import { BusUnavailableError } from '../../errors/bus-unavailable.error.js';
import { appendUntil } from '../../redis/append-until.js';
import { DeadlineExceeded, delay, withDeadline } from '../../redis/deadline.js';
import type { RedisClient } from '../../redis/redis-connection.js';
import type { RedisWatchdog } from '../../redis/redis-watchdog.js';
import { type Waitable, withReplicas } from '../../redis/with-replicas.js';
import { LOCK_KEY_INFIX } from './redis-log.scripts.js';

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
  return `${hashTag}${LOCK_KEY_INFIX}${clientId}`;
}

/**
 * The lock a change of a client's topics holds on a Redis Cluster, from before it reads the
 * client's membership (the topic limit's check) to its entry on the client's shard: the changes
 * of one client, from every instance, are written one at a time, so their markers on the topics'
 * shards are in the order of their entries on the client's shard (what open streams act on and
 * what new streams start with agree), and a change that passes the limit's check is not refused
 * after its markers are written. The entry's script checks that the lock is still the change's
 * (a holder that stalled past it is refused) and lets it go (see `PUBLISH_SCRIPT`). The changes
 * of one client on one instance queue here first, in the order they were made, rather than all
 * ask Redis again and again and take the lock in any order.
 */
export class ClientChangeLock {
  /** Per lock, the last change of it queued here: settles once that change is done. */
  private readonly queued = new Map<string, Promise<void>>();

  /**
   * `replicas`: replicas that must have the lock before a change goes on (`WAIT`), as for the
   * messages: a failover then keeps it, and no other change of the client is written with this
   * one under way.
   */
  constructor(
    private readonly redis: RedisClient & LockScripts,
    private readonly commands: RedisWatchdog,
    private readonly passing: RegExp,
    private readonly replicas: { readonly count: number; readonly commandTimeoutMs: number },
  ) {}

  /**
   * Runs `write` (given the lock's token, for its entry) holding the lock `key`, after the
   * changes queued before it here, and waiting while another instance holds it, until `deadline`:
   * then `BusUnavailableError`, as for a change Redis did not take in time, without running it.
   */
  async hold<T>(key: string, deadline: number, write: (token: string) => Promise<T>): Promise<T> {
    const before = this.queued.get(key) ?? Promise.resolve();
    let done!: () => void;
    const mine = before.then(() => new Promise<void>((resolve) => (done = resolve)));
    this.queued.set(key, mine);
    void mine.then(() => {
      if (this.queued.get(key) === mine) this.queued.delete(key);
    });
    try {
      await inTime(before, deadline, "the client's changes before it on this instance");
      const token = await this.acquire(key, deadline);
      try {
        return await write(token);
      } catch (err) {
        // Its entry may not have let the lock go: the client's next change need not wait it out.
        this.release(key, token);
        throw err;
      }
    } finally {
      // Once the changes before it are done too (it may have given up on them first).
      void before.then(() => done());
    }
  }

  /**
   * Takes the lock, asking again while another holds it. It lasts until `deadline`, the change's
   * own: a holder still writing within its time keeps it, and one whose entry reaches Redis later
   * (its caller already told it failed) is refused.
   */
  private async acquire(key: string, deadline: number): Promise<string> {
    const token = randomUUID();
    for (;;) {
      let taken: 0 | 1;
      try {
        taken = await appendUntil(
          deadline,
          (left) => this.commands.ask(this.lock(key, token, String(left)), left),
          this.passing,
        );
      } catch (err) {
        if (!(err instanceof DeadlineExceeded)) throw err;
        throw new BusUnavailableError(`Change not written in time: ${err.message}`);
      }
      if (taken === 1) return token;
      // Another instance is writing a change of the client: a few milliseconds, most often.
      await inTime(
        delay(RETRY_MS * Math.random()),
        deadline,
        "the client's changes on other instances",
      );
    }
  }

  /** One ask for the lock, which the replicas have when it is taken. */
  private lock(key: string, token: string, ttlMs: string): Promise<0 | 1> {
    const { count, commandTimeoutMs } = this.replicas;
    if (count === 0) return this.redis.sseBusLock(key, token, ttlMs);
    const pipeline = this.redis.pipeline() as unknown as {
      sseBusLock(key: string, token: string, ttlMs: string): Waitable;
    };
    // Asked again, the script finds the lock its token's and answers 1 again.
    return withReplicas(pipeline.sseBusLock(key, token, ttlMs), count, commandTimeoutMs);
  }

  /** Lets the lock go if `token` still holds it. */
  private release(key: string, token: string): void {
    this.commands.ask(this.redis.sseBusUnlock(key, token)).catch(() => undefined);
  }
}

/** Waits for `wait` until `deadline`, then `BusUnavailableError` naming what held it up. */
async function inTime(wait: Promise<unknown>, deadline: number, what: string): Promise<void> {
  try {
    await withDeadline(wait, Math.max(0, deadline - Date.now()), what);
  } catch (err) {
    if (!(err instanceof DeadlineExceeded)) throw err;
    throw new BusUnavailableError(`Change not written in time: ${err.message}`);
  }
}
