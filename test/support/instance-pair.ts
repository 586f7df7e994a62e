import { type RedisServer, startRedis } from './redis-server.js';
import { type ServiceProcess, startService } from './service-process.js';

/**
 * Two instances of the built service on one Redis: `a`, which a test kills under its clients and
 * starts again where it was, and `b`, which stays up to publish through meanwhile. Every
 * instance's clients come back 100 ms after losing their stream.
 */
export class InstancePair {
  private constructor(
    private readonly redis: RedisServer,
    private readonly env: Record<string, string>,
    private instanceA: ServiceProcess | undefined,
    readonly b: ServiceProcess,
    readonly aUrl: string,
  ) {}

  static async start(prefix: string, env: Record<string, string>): Promise<InstancePair> {
    const redis = await startRedis();
    const all = {
      REDIS_URL: redis.url,
      SSE_REDIS_PREFIX: prefix,
      SSE_RETRY_MS: '100',
      LOG_LEVEL: 'warn',
      ...env,
    };
    const a = await startService(all);
    return new InstancePair(redis, all, a, await startService(all), a.url);
  }

  /** SIGKILLs `a`; resolves once it is gone (a kill, not an exit code). */
  async killA(): Promise<number | null> {
    const code = await this.instanceA!.stop('SIGKILL');
    this.instanceA = undefined;
    return code;
  }

  /** Starts `a` again, at the same URL. */
  async restartA(): Promise<void> {
    this.instanceA = await startService({ ...this.env, PORT: new URL(this.aUrl).port });
  }

  async stop(): Promise<void> {
    await Promise.all([this.instanceA?.stop('SIGKILL'), this.b.stop('SIGKILL')]);
    await this.redis.stop();
  }
}
