import { Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { ClientGate, type Verdict } from '../bus/client-gate.js';
import { BusUnavailableError } from '../errors/bus-unavailable.error.js';
import { closeRedis, openRedis } from '../redis/redis-connection.js';
import { RedisWatchdog } from '../redis/redis-watchdog.js';
import { ADMIT_SCRIPT, RELEASE_SCRIPT } from './client-gate.scripts.js';

export interface RedisClientGateOptions {
  readonly url: string;
  /** Prefix of the keys, the bus's: the gate spans the instances of one bus. */
  readonly keyPrefix: string;
  /** This instance's id in presence, whose expiry says whether its streams still count. */
  readonly instanceId: string;
  /** How long a command may take before the connection is treated as dead. */
  readonly commandTimeoutMs: number;
}

/**
 * A client's count is kept this long after its last open or end: the count of a client whose
 * instances all crashed goes, and a stream open longer than this with no other open or end of
 * its client stops counting.
 */
const COUNT_KEPT_MS = 24 * 60 * 60 * 1000;

interface GateRedis extends Redis {
  sseBusAdmit(prefix: string, ...args: string[]): Promise<Verdict>;
  sseBusRelease(prefix: string, ...args: string[]): Promise<void>;
}

/**
 * The gate across instances, in Redis (keys and scripts in `client-gate.scripts.ts`): a stream
 * that opens costs one script call, which checks the block and, with a limit, counts the
 * client's streams on every live instance; one that ends, one more, not waited for. When Redis
 * does not answer, a stream opens on this instance's own count (it fails open), and says so.
 */
export class RedisClientGate extends ClientGate implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(RedisClientGate.name);
  private readonly prefix: string;
  private readonly redis: GateRedis;
  private readonly commands: RedisWatchdog;

  constructor(private readonly options: RedisClientGateOptions) {
    super();
    this.prefix = `{${options.keyPrefix}}:presence:`;
    this.redis = openRedis(
      options.url,
      'gate',
      this.logger,
      {
        sseBusAdmit: { numberOfKeys: 1, lua: ADMIT_SCRIPT },
        sseBusRelease: { numberOfKeys: 1, lua: RELEASE_SCRIPT },
      },
      // A stream waits for no reconnection: it opens on this instance's count meanwhile.
      { enableOfflineQueue: false },
    ) as GateRedis;
    this.commands = new RedisWatchdog(this.redis, options.commandTimeoutMs);
  }

  async block(clientId: string, ms: number): Promise<void> {
    await this.write(this.redis.set(this.key(clientId, 'blocked'), '1', 'PX', ms));
  }

  async unblock(clientId: string): Promise<void> {
    await this.write(this.redis.del(this.key(clientId, 'blocked')));
  }

  async revoke(clientId: string, at: number, ttlMs: number): Promise<void> {
    await this.write(this.redis.set(this.key(clientId, 'revoked'), String(at), 'PX', ttlMs));
  }

  async revokedUpTo(clientId: string): Promise<number | undefined> {
    try {
      const at = await this.commands.ask(this.redis.get(this.key(clientId, 'revoked')));
      return at === null ? undefined : Number(at);
    } catch (err) {
      this.logger.warn(`Revocations not checked for ${clientId}: ${(err as Error).message}`);
      return undefined;
    }
  }

  async admit(clientId: string, streams: number, limit: number): Promise<Verdict> {
    try {
      return await this.commands.ask(
        this.redis.sseBusAdmit(this.prefix, ...this.countArgs(clientId, streams, limit)),
      );
    } catch (err) {
      this.logger.warn(`Stream of ${clientId} admitted unchecked: ${(err as Error).message}`);
      return 'open';
    }
  }

  released(clientId: string, streams: number): void {
    // Lost, it is made good by the client's next open or end here.
    this.commands
      .ask(this.redis.sseBusRelease(this.prefix, ...this.countArgs(clientId, streams, 0)))
      .catch((err: Error) => this.logger.debug(`Count of ${clientId} not sent: ${err.message}`));
  }

  async onModuleInit(): Promise<void> {
    try {
      await this.redis.connect();
    } catch (err) {
      this.redis.disconnect();
      throw new BusUnavailableError(`Cannot reach Redis: ${(err as Error).message}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await closeRedis(this.redis, this.options.commandTimeoutMs);
  }

  private countArgs(clientId: string, streams: number, limit: number): string[] {
    const { instanceId } = this.options;
    return [clientId, instanceId, String(streams), String(limit), String(COUNT_KEPT_MS)];
  }

  private key(clientId: string, what: 'blocked' | 'revoked'): string {
    return `${this.prefix}client:${clientId}:${what}`;
  }

  private async write(command: Promise<unknown>): Promise<void> {
    try {
      await this.commands.ask(command);
    } catch (err) {
      throw new BusUnavailableError(`Cannot reach Redis: ${(err as Error).message}`);
    }
  }
}
