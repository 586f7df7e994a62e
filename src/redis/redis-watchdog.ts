import type { RedisClient } from './redis-connection.js';
import { DeadlineExceeded } from './deadline.js';

/** How a command in flight ends early: failed, with the connection lost or its time up. */
type Fail = (err: Error) => void;

/**
 * Waits for the commands of one connection. Whoever waits, one unanswered for `staleMs` means
 * the connection is dead though nothing said so (a frozen Redis, a host gone without a reset,
 * which the OS may take many minutes to notice): it gets a new one, and the commands in flight
 * on the old one fail.
 *
 * The commands in flight are failed when the connection closes: ioredis 6.0.0 drops such a
 * command without ever settling it when it does not resend it (redis/ioredis#2193), and a
 * publish would wait out its deadline instead of retrying once Redis is back, the reader its
 * watchdog.
 */
export class RedisWatchdog {
  private readonly inFlight = new Set<Fail>();

  constructor(
    private readonly client: RedisClient,
    private readonly staleMs: number,
  ) {
    client.on('close', () => {
      const lost = new Error('Connection to Redis lost');
      this.inFlight.forEach((fail) => fail(lost));
      this.inFlight.clear();
    });
  }

  /**
   * Settles like `command`, or rejects after `ms` or once the connection is lost. One promise
   * and one timer at a time a command (a publish sends one or two): at the sooner of the caller's
   * deadline and the watchdog's, then, if still unanswered, at the other.
   */
  ask<T>(command: Promise<T>, ms = this.staleMs): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      // In flight until answered, or failed when the connection closes.
      const end = () => {
        clearTimeout(timer);
        this.inFlight.delete(lost);
      };
      const lost: Fail = (err) => {
        end();
        reject(err);
      };
      const expire = () => reject(new DeadlineExceeded(`Redis: no answer in ${ms} ms`));
      // The close that follows fails what is in flight as lost, which the caller may retry.
      const stale = () => this.client.disconnect(true);
      const [first, then] = ms < this.staleMs ? [expire, stale] : [stale, expire];
      const gap = Math.abs(this.staleMs - ms);
      timer = setTimeout(
        () => {
          first();
          if (gap === 0) then();
          else if (this.inFlight.has(lost)) timer = setTimeout(then, gap);
        },
        Math.min(ms, this.staleMs),
      );
      this.inFlight.add(lost);
      command.then(
        (value) => {
          end();
          resolve(value);
        },
        (err: Error) => {
          end();
          reject(err);
        },
      );
    });
  }
}
