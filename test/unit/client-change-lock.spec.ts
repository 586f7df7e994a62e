import { BusUnavailableError } from '../../src/errors/bus-unavailable.error.js';
import { ClientChangeLock, type LockScripts } from '../../src/bus/transports/client-change-lock.js';
import type { RedisClient } from '../../src/redis/redis-connection.js';
import type { RedisWatchdog } from '../../src/redis/redis-watchdog.js';

/** A deadline no test reaches. */
const far = () => Date.now() + 60_000;

/** Locks as the scripts keep them (without their time to live), shared by every instance. */
function fakeRedis() {
  const held = new Map<string, string>();
  const redis = {
    sseBusLock: async (key: string, token: string) => {
      if (held.has(key) && held.get(key) !== token) return 0 as const;
      held.set(key, token);
      return 1 as const;
    },
    sseBusUnlock: async (key: string, token: string) => {
      if (held.get(key) !== token) return 0 as const;
      held.delete(key);
      return 1 as const;
    },
  };
  const lockOn = () =>
    new ClientChangeLock(
      redis as unknown as RedisClient & LockScripts,
      { ask: <T>(command: Promise<T>) => command } as unknown as RedisWatchdog,
      /^$/,
      { count: 0, commandTimeoutMs: 0 },
    );
  return { held, lockOn };
}

/** A write that ends when the test says so, and lets the lock go as the entry's script does. */
function gatedWrite(held: Map<string, string>, key: string, log: string[], name: string) {
  let end!: () => void;
  const ended = new Promise<void>((resolve) => (end = resolve));
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const write = async (token: string) => {
    log.push(`${name} starts`);
    started();
    await ended;
    if (held.get(key) === token) held.delete(key);
    log.push(`${name} ends`);
    return name;
  };
  return { write, running, end };
}

describe('ClientChangeLock', () => {
  it("runs one instance's changes of a client one at a time, in the order they were made", async () => {
    const { held, lockOn } = fakeRedis();
    const lock = lockOn();
    const log: string[] = [];
    const writes = ['a', 'b', 'c'].map((name) => gatedWrite(held, 'k', log, name));
    const results = writes.map(({ write }) => lock.hold('k', far(), write));
    for (const { running, end } of writes) {
      await running;
      end();
    }
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['a starts', 'a ends', 'b starts', 'b ends', 'c starts', 'c ends']);
    expect(held.size).toBe(0);
  });

  it('waits while another instance holds the lock, and runs once it is let go', async () => {
    const { held, lockOn } = fakeRedis();
    const log: string[] = [];
    const first = gatedWrite(held, 'k', log, 'first');
    const second = gatedWrite(held, 'k', log, 'second');
    const done = [lockOn().hold('k', far(), first.write), lockOn().hold('k', far(), second.write)];
    await first.running;
    first.end();
    await second.running;
    second.end();
    await Promise.all(done);
    expect(log).toEqual(['first starts', 'first ends', 'second starts', 'second ends']);
  });

  it('gives up past its deadline while another holds the lock, without writing', async () => {
    const { held, lockOn } = fakeRedis();
    held.set('k', 'another');
    let wrote = false;
    const write = async () => (wrote = true);
    await expect(lockOn().hold('k', Date.now() + 30, write)).rejects.toBeInstanceOf(
      BusUnavailableError,
    );
    expect(wrote).toBe(false);
    expect(held.get('k')).toBe('another');
  });

  it('lets the lock go when its write fails, and the next change of the client goes on', async () => {
    const { held, lockOn } = fakeRedis();
    const lock = lockOn();
    const failed = lock.hold('k', far(), async () => {
      throw new Error('no answer');
    });
    const next = lock.hold('k', far(), async (token) => held.get('k') === token);
    await expect(failed).rejects.toThrow('no answer');
    await expect(next).resolves.toBe(true);
    expect(held.get('k')).toBeDefined();
  });

  it('keeps the order after a change that gave up waiting for the one before it', async () => {
    const { held, lockOn } = fakeRedis();
    const lock = lockOn();
    const log: string[] = [];
    const first = gatedWrite(held, 'k', log, 'first');
    const third = gatedWrite(held, 'k', log, 'third');
    const running = lock.hold('k', far(), first.write);
    const gaveUp = lock.hold('k', Date.now() + 30, async () => 'second');
    const last = lock.hold('k', far(), third.write);
    await expect(gaveUp).rejects.toBeInstanceOf(BusUnavailableError);
    await first.running;
    first.end();
    await third.running;
    third.end();
    await Promise.all([running, last]);
    expect(log).toEqual(['first starts', 'first ends', 'third starts', 'third ends']);
  });
});
