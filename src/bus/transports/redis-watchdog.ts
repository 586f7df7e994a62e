import type { RedisClient } from './redis-connection.js';
import { DeadlineExceeded, withDeadline } from './deadline.js';
import { InFlight } from './in-flight.js';

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
