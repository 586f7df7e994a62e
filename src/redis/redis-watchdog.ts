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
   * and one timer a command (a publish sends one or two): the caller's deadline first, then,
   * only if it passed unanswered, the rest of the watchdog's.
   */
  ask<T>(command: Promise<T>, ms = this.staleMs): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let answered = false;
      const fail: Fail = (err) => {
        if (answered) return;
        answered = true;
        clearTimeout(timer);
        this.inFlight.delete(fail);
        reject(err);
      };
      const stale = () => {
        if (this.inFlight.delete(fail)) this.client.disconnect(true);
      };
      let timer = setTimeout(
        () => {
          answered = true;
          reject(new DeadlineExceeded(`Redis: no answer in ${ms} ms`));
          if (ms >= this.staleMs) stale();
          else timer = setTimeout(stale, this.staleMs - ms);
        },
        Math.min(ms, this.staleMs),
      );
      this.inFlight.add(fail);
      command.then(
        (value) => {
          this.inFlight.delete(fail);
          clearTimeout(timer);
          if (answered) return;
          answered = true;
          resolve(value);
        },
        (err: Error) => {
          this.inFlight.delete(fail);
          clearTimeout(timer);
          fail(err);
        },
      );
    });
  }
}
