import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { SchedulerRegistry } from '@nestjs/schedule';
import type { Redis } from 'ioredis';
import type { Audience } from '../bus/bus-event.js';
import type { ClientRouter, RouteWatcher } from '../bus/client-router.js';
import { BusUnavailableError } from '../bus/errors/bus-unavailable.error.js';
import { closeRedis, openRedis } from '../bus/transports/redis-connection.js';
import { RedisWatchdog } from '../bus/transports/redis-watchdog.js';
import { IntervalJob } from '../schedule/interval-job.js';
import { type PresenceCount, PresenceStore } from './presence-store.js';
import { LEAVE_SCRIPT, QUERY_SCRIPT, REFRESH_SCRIPT } from './presence.scripts.js';

export interface RedisPresenceOptions {
  readonly url: string;
  /** Prefix of the keys, the bus's: presence spans the instances of one bus. */
  readonly keyPrefix: string;
  /** How long an instance's streams count once it stops refreshing them. */
  readonly ttlMs: number;
  /** How long a command may take before the connection is treated as dead. */
  readonly commandTimeoutMs: number;
}

type RefreshReply = 'ok' | 'reaped' | 'stale';

interface PresenceRedis extends Redis {
  sseBusPresenceRefresh(prefix: string, ...args: string[]): Promise<RefreshReply>;
  sseBusPresenceLeave(prefix: string, instanceId: string): Promise<'ok'>;
  sseBusPresenceQuery<T>(prefix: string, ...args: string[]): Promise<T>;
}

/**
 * Presence across instances, in Redis (keys and scripts in `presence.scripts.ts`). The instance
 * counts what its streams change as the router opens and ends them, and every third of the TTL
 * sends the net change in one script call, which also pushes its expiry back: the upkeep is one
 * round trip per tick whatever the number of streams, and nothing per message. Queries read
 * the totals, in one round trip.
 */
export class RedisPresenceStore extends PresenceStore implements RouteWatcher {
  private readonly logger = new Logger(RedisPresenceStore.name);
  private readonly instanceId = randomBytes(9).toString('base64url');
  private readonly prefix: string;
  private readonly redis: PresenceRedis;
  private readonly commands: RedisWatchdog;
  private readonly job: IntervalJob;
  /** Net change per field since the last refresh Redis acknowledged. */
  private changes = new Map<string, number>();
  /**
   * Whether what Redis holds for this instance is unknown (a refresh without an answer, or none
   * yet): the next refresh then replaces all of it with what the router has.
   */
  private unsure = true;
  private refreshes = 0;

  constructor(
    private readonly router: ClientRouter,
    registry: SchedulerRegistry,
    private readonly options: RedisPresenceOptions,
  ) {
    super();
    this.prefix = `{${options.keyPrefix}}:presence:`;
    this.redis = openRedis(
      options.url,
      'presence',
      this.logger,
      {
        sseBusPresenceRefresh: { numberOfKeys: 1, lua: REFRESH_SCRIPT },
        sseBusPresenceLeave: { numberOfKeys: 1, lua: LEAVE_SCRIPT },
        sseBusPresenceQuery: { numberOfKeys: 1, lua: QUERY_SCRIPT },
      },
      // A refresh that cannot be sent fails at once; the next one replaces.
      { enableOfflineQueue: false },
    ) as PresenceRedis;
    this.commands = new RedisWatchdog(this.redis, options.commandTimeoutMs);
    this.job = new IntervalJob(registry, 'sse-bus:presence-refresh', () => this.refresh());
    router.watch(this);
  }

  joined(audience: Audience): void {
    tally(this.changes, audience, 1);
  }

  left(audience: Audience): void {
    tally(this.changes, audience, -1);
  }

  async start(): Promise<void> {
    try {
      await this.redis.connect();
      await this.refresh();
    } catch (err) {
      this.redis.disconnect();
      throw new BusUnavailableError(`Cannot reach Redis: ${(err as Error).message}`);
    }
    this.job.start(Math.floor(this.options.ttlMs / 3));
  }

  async close(): Promise<void> {
    await this.job.stop();
    await this.commands
      .ask(this.redis.sseBusPresenceLeave(this.prefix, this.instanceId))
      .catch((err: Error) => this.logger.warn(`Presence not cleared: ${err.message}`));
    await closeRedis(this.redis, this.options.commandTimeoutMs);
  }

  streamsOf(clientId: string): Promise<number> {
    return this.query('client', clientId);
  }

  async count(): Promise<PresenceCount> {
    const [clients, streams] = await this.query<[number, number]>('count');
    return { clients, streams };
  }

  clientsOn(topic: string, limit: number): Promise<string[]> {
    return this.query('topic', topic, String(limit));
  }

  private query<T>(...args: string[]): Promise<T> {
    return this.commands
      .ask(this.redis.sseBusPresenceQuery<T>(this.prefix, ...args))
      .catch((err: Error) => {
        throw new BusUnavailableError(`Presence unavailable: ${err.message}`);
      });
  }

  /** Sends what changed since the last acknowledged refresh, or everything when unsure. */
  private async refresh(): Promise<void> {
    const replace = this.unsure;
    const changes = replace ? this.snapshot() : this.changes;
    this.changes = new Map();
    // Until Redis answers: without an answer, nobody knows whether it applied them.
    this.unsure = true;
    const args = [
      this.instanceId,
      String(this.options.ttlMs),
      String(++this.refreshes),
      replace ? 'replace' : 'delta',
    ];
    for (const [field, delta] of changes) if (delta !== 0) args.push(field, String(delta));
    const reply = await this.commands.ask(this.redis.sseBusPresenceRefresh(this.prefix, ...args));
    if (reply === 'ok') {
      this.unsure = false;
    } else if (!replace) {
      // Expired (this process stood still longer than the TTL, or Redis lost its data): the
      // others already took its streams away.
      this.logger.warn(`Presence of this instance was ${reply}: sending all of it again`);
      await this.refresh();
    }
  }

  /** Every open stream of this instance, as changes from nothing. */
  private snapshot(): Map<string, number> {
    const all = new Map<string, number>();
    for (const audience of this.router.audiences()) tally(all, audience, 1);
    return all;
  }
}

/** Adds `delta` to the fields of a stream: its client, and its client on each of its topics. */
function tally(changes: Map<string, number>, { clientId, topics }: Audience, delta: number): void {
  const add = (field: string) => changes.set(field, (changes.get(field) ?? 0) + delta);
  add(clientId);
  topics?.forEach((topic) => add(`${topic}\n${clientId}`));
}
