import type { RedisClient } from './redis-connection.js';
import { DeadlineExceeded, withDeadline } from './deadline.js';

/**
 * Waits for the commands of one connection. Whoever waits, one unanswered for `staleMs` means
 * the connection is dead though nothing said so (a frozen Redis, a host gone without a reset,
 * which the OS may take many minutes to notice): it gets a new one, and the commands in flight
 * on the old one fail (see `InFlight`).
 */
export class RedisWatchdog {
  private readonly inFlight: InFlight;

  constructor(
    private readonly client: RedisClient,
    private readonly staleMs: number,
  ) {
    this.inFlight = new InFlight(client);
  }

  /** Settles like `command`, or rejects after `ms` or once the connection is lost. */
  ask<T>(command: Promise<T>, ms = this.staleMs): Promise<T> {
    const answer = this.inFlight.track(command);
    withDeadline(answer, this.staleMs, 'Redis').catch((err: unknown) => {
      if (err instanceof DeadlineExceeded) this.client.disconnect(true);
    });
    return withDeadline(answer, ms, 'Redis');
  }
}

/**
 * The commands in flight on one connection, failed when it closes. ioredis 6.0.0 drops such a
 * command without ever settling it when it does not resend it (redis/ioredis#2193): a publish
 * would wait out its deadline instead of retrying once Redis is back, and the reader its
 * watchdog.
 */
class InFlight {
  private readonly failures = new Set<(err: Error) => void>();

  constructor(client: RedisClient) {
    client.on('close', () => {
      const lost = new Error('Connection to Redis lost');
      this.failures.forEach((fail) => fail(lost));
      this.failures.clear();
    });
  }

  /** Settles like `command`, or rejects if the connection closes first. */
  track<T>(command: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.failures.add(reject);
      command.then(resolve, reject).finally(() => this.failures.delete(reject));
    });
  }
}
