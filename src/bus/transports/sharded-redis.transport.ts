import { Logger } from '@nestjs/common';
import { BusUnavailableError } from '../../errors/bus-unavailable.error.js';
import { withDeadline } from '../../redis/deadline.js';
import {
  type RedisClient,
  closeRedis,
  onReconnect,
  openRedis,
} from '../../redis/redis-connection.js';
import { RedisWatchdog } from '../../redis/redis-watchdog.js';
import type { Audience, BusMessage } from '../bus-event.js';
import {
  BusTransport,
  HistoryGap,
  type OutgoingMessage,
  type TransportHealth,
} from '../bus-transport.js';
import { BROADCAST_CHANNEL, byShard, channelsFor, channelsOf } from '../channels.js';
import { type LogPosition, comparePositions, parseEntryId } from '../log-position.js';
import type { StreamLease } from '../stream-lease.js';
import { type Membership, NO_MEMBERSHIP } from '../topic-change.js';
import { type ShardedLog, VectorLease } from '../vector-lease.js';
import {
  type ShardPositions,
  epochsDigest,
  formatVectorId,
  parseVectorId,
  startOn,
} from '../vector-id.js';
import { RedisLog } from './redis-log.js';
import { LOG_SCRIPTS, type LogScripts } from './redis-log.scripts.js';
import { mergeHistories } from './merged-history.js';
import type { RedisBusOptions } from './redis.transport.js';
import { type ShardHost, ShardReader } from './shard-reader.js';

export interface ShardedRedisTransportOptions extends RedisBusOptions {
  /** Shards of the log: every instance of the bus must have the same number. */
  readonly shards: number;
  /** Replicas that must have a message before `publish()` resolves (`WAIT`); 0: none. */
  readonly waitReplicas: number;
  /** How often each shard's subscription is pinged. */
  readonly pingMs: number;
}

type ScriptedCluster = RedisClient & LogScripts & { call(...args: string[]): Promise<unknown> };

/** How long start-up may take to read every shard. */
const START_MS = 15_000;

// Errors of a cluster in motion (a failover, a slot migration, a node loading): the write did
// not happen, and will once the cluster settles.
const PASSING = /^(CLUSTERDOWN|TRYAGAIN|MOVED|ASK|LOADING|READONLY|MASTERDOWN|NOREPLICAS)\b/;

/**
 * The bus on a Redis Cluster: the log is split into shards, each a `RedisLog` of its own under
 * its own hash tag, so that they spread over the cluster's masters. A message goes to the shards
 * of its channels (its clients', its topics', or the broadcast channel's on shard 0), and an
 * instance reads, by sharded pub/sub, only the channels its streams listen on (see
 * `ShardReader`). Ids are per stream: a position in each shard it reads (see `VectorLease`).
 */
export class ShardedRedisTransport extends BusTransport implements ShardedLog {
  private readonly logger = new Logger(ShardedRedisTransport.name);
  private readonly client: ScriptedCluster;
  private readonly commands: RedisWatchdog;
  private readonly logs: RedisLog[] = [];
  private readonly readers: ShardReader[] = [];
  /** Stands for the epochs of every shard: a cursor with another is from another life of the log. */
  digest = '';

  constructor(private readonly options: ShardedRedisTransportOptions) {
    super();
    const {
      url,
      keyPrefix,
      maxLength,
      idempotency,
      membershipTtlMs,
      shards,
      commandTimeoutMs,
      waitReplicas,
      counters,
    } = options;
    this.client = openRedis(url, 'cluster', this.logger, LOG_SCRIPTS) as ScriptedCluster;
    this.commands = new RedisWatchdog(this.client, commandTimeoutMs);
    onReconnect(this.client, () => counters.redisReconnects++);
    const host: ShardHost = {
      client: this.client,
      commandTimeoutMs,
      pingMs: options.pingMs,
      logger: this.logger,
      counters,
      emit: (event) => this.read$.next(event),
      epochChanged: () => (this.digest = epochsDigest(this.logs.map((log) => log.epoch))),
    };
    for (let shard = 0; shard < shards; shard++) {
      const log = new RedisLog({
        writer: { redis: this.client, commands: this.commands },
        hashTag: `{${keyPrefix}:${shard}}`,
        maxLength,
        idempotency,
        membershipTtlMs,
        shard,
        waitReplicas,
        commandTimeoutMs,
        // Node gone, slot moving: once the cluster settles, the batch goes through.
        passing: PASSING,
      });
      this.logs.push(log);
      this.readers.push(new ShardReader(log, host));
    }
  }

  position(audience?: Audience): string {
    const shards = audience ? this.shardsOf(channelsFor(audience)).keys() : this.logs.keys();
    return formatVectorId(
      this.digest,
      new Map([...shards].sort().map((shard) => [shard, this.logs[shard].top])),
    );
  }

  lease(audience: Audience, lastEventId: string | undefined): StreamLease {
    const channels = channelsFor(audience);
    const grouped = this.shardsOf(channels);
    const given = parseVectorId(lastEventId);
    const positions = new Map<number, LogPosition>();
    for (const shard of [...grouped.keys()].sort()) {
      const top = this.logs[shard].top;
      const named = given?.positions.get(shard);
      const start = given && !named ? startOn(given.positions, shard) : undefined;
      // A start the id does not name goes no further than this instance read: an id ahead of a
      // shard's log could not resume.
      positions.set(shard, named ?? (start && comparePositions(start, top) < 0 ? start : top));
    }
    const waits = [...grouped].map(([shard, each]) => this.readers[shard].want(each));
    const ready = waits.some((wait) => wait !== undefined)
      ? Promise.all(waits).then(() => {
          // A new stream starts where its channels are heard from.
          if (!given) {
            for (const shard of positions.keys()) positions.set(shard, this.logs[shard].top);
          }
        })
      : undefined;
    return new VectorLease(this, positions, channels, ready, given && lastEventId);
  }

  release(channels: readonly string[]): void {
    for (const [shard, each] of this.shardsOf(channels)) this.readers[shard].release(each);
  }

  async *replay(lastEventId: string, audience: Audience): AsyncIterable<readonly BusMessage[]> {
    const from = parseVectorId(lastEventId);
    if (!from) throw new HistoryGap('malformed');
    if (from.digest !== this.digest) throw new HistoryGap('epoch');
    const shards = [...this.shardsOf(channelsFor(audience)).keys()].sort();
    // Interleaved by entry time, as the stream would have seen them live: not shard after shard.
    yield* mergeHistories(shards.map((shard) => this.shardHistory(from.positions, shard)));
  }

  async publish(message: OutgoingMessage, timeoutMs: number): Promise<string> {
    // An open stream would need its joined topics' channels, and its place on their shards.
    if (message.topicChange) {
      throw new BusUnavailableError(
        'Joining and leaving topics is not available on a Redis Cluster yet',
      );
    }
    const grouped = this.shardsOf(channelsOf(message));
    const spread = grouped.size > 1 ? String(this.options.shards) : '';
    // Every shard it was written to: the id is a start position, and its copies are not after it.
    const written = await Promise.all(
      [...grouped].map(([shard, channels]) =>
        this.logs[shard]
          .append({ message, channels, spread }, timeoutMs)
          .then(({ entryId }) => [shard, parseEntryId(entryId)] as const),
      ),
    );
    return formatVectorId(this.digest, new Map(written.sort(([x], [y]) => x - y)));
  }

  membership(): Membership {
    return NO_MEMBERSHIP;
  }

  async membershipAt(): Promise<Membership> {
    return NO_MEMBERSHIP;
  }

  keepMembership(): void {}

  async keepMemberships(): Promise<void> {}

  async trimBefore(ms: number): Promise<void> {
    await Promise.all(this.logs.map((log) => log.trimBefore(ms)));
  }

  health(): TransportHealth {
    const behind = this.readers.flatMap((reader, shard) => (reader.live ? [] : [shard]));
    return {
      transport: 'redis',
      reading: behind.length === 0,
      writing: this.client.status === 'ready',
      detail: behind.length > 0 ? `not reading shards ${behind.join(', ')}` : undefined,
    };
  }

  async start(): Promise<void> {
    try {
      await this.client.connect();
      await this.checkShards();
      // Every instance hears every broadcast.
      this.readers[0].want([BROADCAST_CHANNEL]);
      await withDeadline(
        Promise.all(this.readers.map((reader) => reader.start())),
        START_MS,
        'Reading the shards',
      );
    } catch (err) {
      await this.close();
      throw new BusUnavailableError(
        `Cannot read the log from Redis Cluster: ${(err as Error).message}`,
      );
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.readers.map((reader) => reader.close()));
    await closeRedis(this.client, this.options.commandTimeoutMs);
    this.read$.complete();
  }

  /** Instances that split the log differently would miss each other's messages: refused. */
  private async checkShards(): Promise<void> {
    const key = `{${this.options.keyPrefix}}:config`;
    const shards = String(this.options.shards);
    await this.commands.ask(this.client.hsetnx(key, 'shards', shards));
    const stored = await this.commands.ask(this.client.hget(key, 'shards'));
    if (stored !== shards) {
      throw new Error(
        `the bus "${this.options.keyPrefix}" has ${stored} shards, this instance ${shards}: every instance must have the same redisShards`,
      );
    }
  }

  private shardsOf(channels: readonly string[]): Map<number, string[]> {
    return byShard(channels, this.options.shards);
  }

  private async *shardHistory(
    positions: ShardPositions,
    shard: number,
  ): AsyncIterable<readonly BusMessage[]> {
    try {
      yield* this.logs[shard].history(startOn(positions, shard));
    } catch (err) {
      // A shard the id does not name that took nothing since its time: nothing was missed.
      const unnamed = !positions.has(shard) && err instanceof HistoryGap;
      if (!unnamed || err.reason !== 'ahead') throw err;
    }
  }
}
