import { Logger } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import { Subject } from 'rxjs';
import type { BusMetrics } from '../../metrics/bus-metrics.js';
import type { Audience, BusEvent, BusMessage } from '../bus-event.js';
import {
  type OutgoingMessage,
  BusTransport,
  HistoryGap,
  type TransportHealth,
} from '../bus-transport.js';
import { type StreamPosition, parseStreamId } from '../cursor.js';
import { BusUnavailableError } from '../errors/bus-unavailable.error.js';
import { channelsFor, channelsOf, shardOf } from '../shards.js';
import type { StreamCursor } from '../stream-cursor.js';
import {
  type ShardedLog,
  VectorCursor,
  epochTag,
  formatVector,
  parseVector,
} from '../vector-cursor.js';
import { DeadlineExceeded, withDeadline } from './deadline.js';
import { closeRedis, openRedis } from './redis-connection.js';
import { RedisWatchdog } from './redis-watchdog.js';
import { HISTORY_SCRIPT, SYNC_SCRIPT, TRIM_BEFORE_SCRIPT } from './redis.scripts.js';
import { ShardPublisher } from './shard-publisher.js';
import { type ShardCommands, ShardReader } from './shard-reader.js';
import { SHARD_PUBLISH_SCRIPT } from './shard.scripts.js';

export interface ShardedRedisTransportOptions {
  /** `redis-cluster://host:port,…` */
  readonly url: string;
  readonly keyPrefix: string;
  /** Messages each shard keeps for resume (`MAXLEN ~`). */
  readonly maxLength: number;
  /** Shards of the log: every instance of the bus must have the same number. */
  readonly shards: number;
  /** Replicas that must have a message before `publish()` resolves (`WAIT`); 0: none. */
  readonly waitReplicas: number;
  readonly commandTimeoutMs: number;
  /** How often each shard's subscription is pinged. */
  readonly pingMs: number;
  readonly metrics: BusMetrics;
}

type ScriptedCluster = Cluster &
  ShardCommands & {
    sseBusShardPublish(...keysAndArgs: string[]): Promise<string>;
  };

/** How long start-up may take to read every shard. */
const START_MS = 15_000;

/**
 * The bus on a Redis Cluster: the log is split into shards, each a log of its own under its own
 * hash tag, so that they spread over the cluster's masters. A message goes to the shards of its
 * channels (its clients', its topics', or the broadcast channel's on shard 0), and an instance
 * reads, by sharded pub/sub, only the channels its streams listen on (see `ShardReader`). Ids are
 * per stream: a position in each shard it reads (see `VectorCursor`).
 */
export class ShardedRedisTransport extends BusTransport implements ShardedLog {
  private readonly logger = new Logger(ShardedRedisTransport.name);
  private readonly subject = new Subject<BusEvent>();
  readonly events$ = this.subject.asObservable();
  private readonly client: ScriptedCluster;
  private readonly commands: RedisWatchdog;
  private readonly readers: ShardReader[] = [];
  private readonly publishers: ShardPublisher[] = [];
  /** Stands for the epochs of every shard: a cursor with another is from another life of the log. */
  tag = '';

  constructor(private readonly options: ShardedRedisTransportOptions) {
    super();
    const { url, keyPrefix, shards, commandTimeoutMs, waitReplicas } = options;
    this.client = openRedis(url, 'cluster', this.logger, {
      sseBusSync: { numberOfKeys: 2, lua: SYNC_SCRIPT },
      sseBusHistory: { numberOfKeys: 2, lua: HISTORY_SCRIPT },
      sseBusTrimBefore: { numberOfKeys: 2, lua: TRIM_BEFORE_SCRIPT },
      sseBusShardPublish: { numberOfKeys: 3, lua: SHARD_PUBLISH_SCRIPT },
    }) as ScriptedCluster;
    this.commands = new RedisWatchdog(this.client, commandTimeoutMs);
    let connected = false;
    this.client.on('ready', () => {
      if (connected) options.metrics.redisReconnects++;
      connected = true;
    });
    for (let shard = 0; shard < shards; shard++) {
      const tag = `{${keyPrefix}:${shard}}`;
      this.readers.push(
        new ShardReader({
          shard,
          tag,
          client: this.client,
          commands: this.commands,
          commandTimeoutMs,
          pingMs: options.pingMs,
          logger: this.logger,
          emit: (event) => this.subject.next(event),
          reconnected: () => options.metrics.redisReconnects++,
          epochChanged: () => (this.tag = epochTag(this.readers.map((reader) => reader.epoch))),
          bytesRead: options.metrics.redisBytesRead,
        }),
      );
      this.publishers.push(
        new ShardPublisher({
          tag,
          maxLength: options.maxLength,
          commands: this.commands,
          send: (keys, args) =>
            waitReplicas === 0
              ? this.client.sseBusShardPublish(...keys, ...args)
              : this.publishAndWait(keys, args),
        }),
      );
    }
  }

  position(audience?: Audience): string {
    const shards = audience ? this.shardsOf(channelsFor(audience)).keys() : this.readers.keys();
    return formatVector(
      this.tag,
      new Map([...shards].sort().map((shard) => [shard, this.readers[shard].top])),
    );
  }

  cursor(audience: Audience, lastEventId: string | undefined): StreamCursor {
    const channels = channelsFor(audience);
    const byShard = this.shardsOf(channels);
    const given = parseVector(lastEventId);
    const positions = new Map<number, StreamPosition>();
    for (const shard of [...byShard.keys()].sort()) {
      positions.set(shard, given?.positions.get(shard) ?? this.readers[shard].top);
    }
    const waits = [...byShard].map(([shard, each]) => this.readers[shard].want(each));
    const ready = waits.some((wait) => wait !== undefined)
      ? Promise.all(waits).then(() => {
          // A new stream starts where its channels are heard from.
          if (!given) {
            for (const shard of positions.keys()) positions.set(shard, this.readers[shard].top);
          }
        })
      : undefined;
    return new VectorCursor(this, positions, channels, ready, given && lastEventId);
  }

  release(channels: readonly string[]): void {
    for (const [shard, each] of this.shardsOf(channels)) this.readers[shard].release(each);
  }

  async *replay(lastEventId: string, audience: Audience): AsyncIterable<readonly BusMessage[]> {
    const cursor = parseVector(lastEventId);
    if (!cursor) throw new HistoryGap('malformed');
    if (cursor.tag !== this.tag) throw new HistoryGap('epoch');
    for (const shard of [...this.shardsOf(channelsFor(audience)).keys()].sort()) {
      const after = cursor.positions.get(shard);
      // A shard the stream did not read before (it has other topics now): it missed nothing there.
      if (after) yield* this.readers[shard].history(after);
    }
  }

  async publish(message: OutgoingMessage, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    const byShard = this.shardsOf(channelsOf(message));
    const spread = byShard.size > 1 ? String(this.options.shards) : '';
    try {
      const [first] = await Promise.all(
        [...byShard].map(([shard, channels]) =>
          this.publishers[shard]
            .publish({ message, channels, spread }, deadline)
            .then((id) => [shard, parseStreamId(id)] as const),
        ),
      );
      return formatVector(this.tag, new Map([first]));
    } catch (err) {
      if (!(err instanceof DeadlineExceeded)) throw err;
      throw new BusUnavailableError(`Message not published within ${timeoutMs} ms: ${err.message}`);
    }
  }

  async trimBefore(ms: number): Promise<void> {
    await Promise.all(this.readers.map((reader) => this.commands.ask(reader.trimBefore(ms))));
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
      this.readers[0].want(['b']);
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
    this.subject.complete();
  }

  /** Instances that split the log differently would miss each other's messages: refused. */
  private async checkShards(): Promise<void> {
    const key = `{${this.options.keyPrefix}}:config`;
    const shards = String(this.options.shards);
    await this.commands.ask(this.client.hsetnx(key, 'shards', shards));
    const stored = await this.commands.ask(this.client.hget(key, 'shards'));
    if (stored !== shards) {
      throw new Error(
        `the bus "${this.options.keyPrefix}" has ${stored} shards, this instance ${shards}: every instance must have the same SSE_REDIS_SHARDS`,
      );
    }
  }

  /** The script, then `WAIT` on the same connection: the message is on the replicas. */
  private async publishAndWait(keys: string[], args: string[]): Promise<string> {
    const { waitReplicas, commandTimeoutMs } = this.options;
    const replies = await (
      this.client.pipeline() as unknown as {
        sseBusShardPublish(...keysAndArgs: string[]): {
          wait(n: number, ms: number): { exec(): Promise<[Error | null, unknown][] | null> };
        };
      }
    )
      .sseBusShardPublish(...keys, ...args)
      // Half the watchdog's deadline: a WAIT that waits its whole time (no replica yet, after a
      // failover) is an answer, not a dead connection to be dropped with every command on it.
      .wait(waitReplicas, Math.floor(commandTimeoutMs / 2))
      .exec();
    const [[failed, receipt], [waitFailed, replicas]] = replies!;
    if (failed) throw failed;
    if (waitFailed) throw waitFailed;
    if ((replicas as number) < waitReplicas) {
      // Retried: the receipt returns the same ids, and WAIT asks again.
      throw new Error(`${String(replicas)} of ${waitReplicas} replicas have the message`);
    }
    return receipt as string;
  }

  /** `channels` by the shard they are on. */
  private shardsOf(channels: readonly string[]): Map<number, string[]> {
    const byShard = new Map<number, string[]>();
    for (const channel of channels) {
      const shard = shardOf(channel, this.options.shards);
      const list = byShard.get(shard);
      if (list) list.push(channel);
      else byShard.set(shard, [channel]);
    }
    return byShard;
  }
}
