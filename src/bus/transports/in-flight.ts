import type { RedisClient } from './redis-connection.js';

/**
 * The commands in flight on one connection, failed when it closes. ioredis 6.0.0 drops such a
 * command without ever settling it when it does not resend it (redis/ioredis#2193): a publish
 * would wait out its deadline instead of retrying once Redis is back, and the reader its
 * watchdog.
 */
export class InFlight {
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
