import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { SchedulerRegistry } from '@nestjs/schedule';
import type { Redis } from 'ioredis';
import type { Audience } from '../bus/bus-event.js';
import type { ClientRouter, RouteWatcher } from '../bus/client-router.js';
import { BusUnavailableError } from '../errors/bus-unavailable.error.js';
import { withDeadline } from '../redis/deadline.js';
import { closeRedis, openRedis } from '../redis/redis-connection.js';
import { RedisWatchdog } from '../redis/redis-watchdog.js';
import { IntervalJob } from '../schedule/interval-job.js';
import { type PresenceCount, PresenceStore } from './presence-store.js';
import { PRESENCE_BATCH, QUERY_SCRIPT, REFRESH_SCRIPT } from './presence.scripts.js';

export interface RedisPresenceOptions {
  readonly url: string;
  /** Prefix of the keys, the bus's: presence spans the instances of one bus. */
  readonly keyPrefix: string;
  /** How long an instance's streams count once it stops refreshing them. */
  readonly ttlMs: number;
  /** How long a command may take before the connection is treated as dead. */
  readonly commandTimeoutMs: number;
}

type Mode = 'delta' | 'clear' | 'leave' | 'register';
type Status = 'ok' | 'more' | 'reaped' | 'stale';

interface PresenceRedis extends Redis {
  sseBusPresenceRefresh(prefix: string, ...args: string[]): Promise<[Status, 0 | 1]>;
  sseBusPresenceQuery(prefix: string, ...args: string[]): Promise<[0 | 1, ...unknown[]]>;
}

/**
 * Presence across instances, in Redis (keys and scripts in `presence.scripts.ts`). The instance
 * counts what its streams change as the router opens and ends them, and every third of the TTL
 * sends the net change in one script call, which also pushes its expiry back: the upkeep is one
 * round trip per tick whatever the number of streams, and nothing per message. Queries read
 * the totals, in one round trip. Only what is rare takes more, a batch at a time: a change of
 * over `PRESENCE_BATCH` fields, taking back all an instance added, reaping a dead one.
 */
export class RedisPresenceStore extends PresenceStore implements RouteWatcher {
  private readonly logger = new Logger(RedisPresenceStore.name);
  /** This instance's id in presence: while its expiry is ahead, what it counts counts. */
  readonly instanceId = randomBytes(9).toString('base64url');
  private readonly prefix: string;
  private readonly redis: PresenceRedis;
  private readonly commands: RedisWatchdog;
  private readonly job: IntervalJob;
  /** Net change per field since the last refresh Redis acknowledged. */
  private changes = new Map<string, number>();
  /**
   * Whether what Redis holds for this instance is unknown (a call without an answer, or none
   * yet): the next refresh then replaces all of it with what the router has.
   */
  private unsure = true;
  /** Whether the last call left instances that expired to reap. */
  private reaping = false;
  private calls = 0;

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

  /** Takes this instance's streams away within `commandTimeoutMs`; else they expire. */
  async close(): Promise<void> {
    await this.job.stop();
    await withDeadline(this.clear('leave'), this.options.commandTimeoutMs, 'Leaving').catch(
      (err: Error) => this.logger.warn(`Presence not cleared: ${err.message}`),
    );
    await closeRedis(this.redis, this.options.commandTimeoutMs);
  }

  async streamsOf(clientId: string): Promise<number> {
    const [streams] = await this.query('client', clientId);
    return streams as number;
  }

  async count(): Promise<PresenceCount> {
    const [clients, streams] = (await this.query('count')) as number[];
    return { clients, streams };
  }

  async clientsOn(topic: string, limit: number): Promise<string[]> {
    return (await this.query('topic', topic, String(limit))) as string[];
  }

  /** Asks until no expired instance is left to reap, so the answer counts none. */
  private async query(...args: string[]): Promise<unknown[]> {
    try {
      for (;;) {
        const [reaping, ...answer] = await this.commands.ask(
          this.redis.sseBusPresenceQuery(this.prefix, ...args),
        );
        if (!reaping) return answer;
      }
    } catch (err) {
      throw new BusUnavailableError(`Presence unavailable: ${(err as Error).message}`);
    }
  }

  /** Sends what changed since the last acknowledged refresh, or everything when unsure. */
  private async refresh(): Promise<void> {
    if (!this.unsure) {
      const changes = this.changes;
      this.changes = new Map();
      // Until Redis answers: without an answer, nobody knows whether it applied them.
      this.unsure = true;
      const status = await this.send('delta', changes);
      if (status === 'ok') this.unsure = false;
      // Expired (this process stood still longer than the TTL, or Redis lost its data): the
      // others are taking its streams away.
      else this.logger.warn(`Presence of this instance was ${status}: sending all of it again`);
    }
    if (this.unsure) {
      await this.clear('clear');
      const snapshot = this.snapshot();
      this.changes = new Map();
      if ((await this.send('register', snapshot)) === 'ok') this.unsure = false;
    }
    // The instances that died go now, not a batch a tick.
    if (this.reaping) await this.query('count');
  }

  /** Takes away all this instance added to the totals (and with 'leave', the instance). */
  private async clear(mode: 'clear' | 'leave'): Promise<void> {
    let status: Status;
    while ((status = await this.call(mode, [])) === 'more');
    if (status !== 'ok') throw new Error(`Presence of this instance was ${status}`);
  }

  /** `changes` in calls of `PRESENCE_BATCH` fields at most; the first in `mode`. */
  private async send(mode: 'delta' | 'register', changes: Map<string, number>): Promise<Status> {
    const fields: string[] = [];
    for (const [field, delta] of changes) if (delta !== 0) fields.push(field, String(delta));
    const size = 2 * PRESENCE_BATCH;
    for (let start = 0; ; start += size) {
      const batch = fields.slice(start, start + size);
      const status = await this.call(start === 0 ? mode : 'delta', batch);
      if (status !== 'ok' || start + size >= fields.length) return status;
    }
  }

  private async call(mode: Mode, fields: string[]): Promise<Status> {
    const [status, reaping] = await this.commands.ask(
      this.redis.sseBusPresenceRefresh(
        this.prefix,
        this.instanceId,
        String(this.options.ttlMs),
        String(++this.calls),
        mode,
        ...fields,
      ),
    );
    this.reaping = reaping === 1;
    return status;
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
