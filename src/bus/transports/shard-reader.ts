import type { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { BusEvent, BusMessage, ResetReason } from '../bus-event.js';
import { HistoryGap } from '../bus-transport.js';
import {
  type StreamPosition,
  START,
  comparePositions,
  formatStreamId,
  newEpoch,
  parseStreamId,
} from '../cursor.js';
import { channelsOf } from '../shards.js';
import { formatVector } from '../vector-cursor.js';
import { delay, withDeadline } from './deadline.js';
import { HISTORY_PAGE_SIZE } from './history-page-size.js';
import { afterLoss } from './log-continuity.js';
import { type LogEntry, type LogPage, logHistory, toLogPage } from './log-history.js';
import type { RedisClient } from './redis-connection.js';
import type { LogScripts } from './redis.scripts.js';
import type { SocketBytes } from '../../metrics/socket-bytes.js';
import type { RedisWatchdog } from './redis-watchdog.js';
import { SharedReads } from './shared-reads.js';

/** The commands of the Redis Cluster client that a shard reader sends. */
export interface ShardCommands extends LogScripts {
  call(...args: string[]): Promise<unknown>;
}

export interface ShardReaderOptions {
  readonly shard: number;
  /** The shard's hash tag, `{<prefix>:<shard>}`: its keys and channels start with it. */
  readonly tag: string;
  readonly client: ShardCommands & RedisClient;
  readonly commands: RedisWatchdog;
  readonly commandTimeoutMs: number;
  /** How often the subscription is pinged: one that stays silent longer is replaced. */
  readonly pingMs: number;
  readonly logger: Logger;
  /** Where what it reads goes, in the shard's order. */
  emit(event: BusEvent): void;
  /** It lost its subscription and took a new one. */
  reconnected(): void;
  /** The epoch of the shard's log is known, or a new one. */
  epochChanged(): void;
  /** Where what its subscriptions read is counted. */
  readonly bytesRead: SocketBytes;
}

const SEPARATOR = '\x1f';
/**
 * A channel the reader never leaves, which nobody publishes on. When a connection's last
 * subscription ends, ioredis leaves subscriber mode, even with an SSUBSCRIBE on its way: it
 * would then take that subscription's messages for replies, and lose them.
 */
const ANCHOR = '_';

/**
 * Reads one shard of the log for this instance: the messages on the channels its streams listen
 * on, and no others. They come by sharded pub/sub (`SSUBSCRIBE`, on a connection to the node
 * that serves the shard). Whenever that subscription is (re)taken, which is what a dropped
 * connection, a failover or a slot migration comes to, the gap since the last message read is
 * filled from the shard's log first, with what is heard meanwhile held back: nothing is lost or
 * given twice. A shard whose log lost entries this instance gave out (a failover before they
 * reached the replica) or lost its log (a new epoch) resets its streams.
 */
export class ShardReader {
  /** The epoch of the shard's log, '' until first read. */
  epoch = '';
  /** The last message of the shard given out: where a new stream starts on this shard. */
  top: StreamPosition = START;
  /** Reading live: subscribed, and caught up with the log. */
  live = false;
  private readonly keys: { meta: string; log: string };
  private readonly wanted = new Map<string, number>();
  private subscribed = new Set<string>();
  /**
   * Bumped at each SSUBSCRIBE or SUNSUBSCRIBE of a channel: the answer to one that was overtaken
   * by another says nothing of the channel.
   */
  private turns = new Map<string, number>();
  private waiters: { channels: readonly string[]; resolve: () => void }[] = [];
  private connection: Redis | undefined;
  /** Heard while the gap is filled: given out after it, if still new. */
  private held: BusMessage[] | undefined = [];
  private slot: number | undefined;
  private running: Promise<void> | undefined;
  private closed = false;
  private readonly pinger: NodeJS.Timeout;
  private readonly pages = new SharedReads<LogPage>();

  constructor(private readonly options: ShardReaderOptions) {
    this.keys = { meta: `${options.tag}:meta`, log: `${options.tag}:log` };
    this.pinger = setInterval(() => this.ping(), options.pingMs);
  }

  start(): Promise<void> {
    return (this.running = this.run());
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.pinger);
    this.connection?.disconnect();
    await this.running;
  }

  /**
   * Listens on `channels` for a stream: undefined when it does already, else a promise that
   * settles once it does.
   */
  want(channels: readonly string[]): Promise<void> | undefined {
    const fresh = channels.filter((channel) => {
      const streams = this.wanted.get(channel) ?? 0;
      this.wanted.set(channel, streams + 1);
      return streams === 0;
    });
    if (fresh.length > 0 && this.live) this.subscribe(this.connection!, fresh);
    if (channels.every((channel) => this.subscribed.has(channel))) return undefined;
    return new Promise((resolve) => this.waiters.push({ channels, resolve }));
  }

  /** A stream no longer listens on `channels`. */
  release(channels: readonly string[]): void {
    const gone = channels.filter((channel) => {
      const streams = this.wanted.get(channel)! - 1;
      if (streams > 0) this.wanted.set(channel, streams);
      else this.wanted.delete(channel);
      return streams <= 0;
    });
    if (gone.length === 0 || !this.live) return;
    const connection = this.connection!;
    const turns = gone.map((channel) => {
      this.subscribed.delete(channel);
      return this.turn(channel);
    });
    connection
      .sunsubscribe(...gone.map((channel) => this.options.tag + channel))
      .then(() => {
        // Nothing older is still to be answered: a channel no one wants is forgotten.
        gone.forEach((channel, i) => {
          if (this.turns.get(channel) === turns[i] && connection === this.connection) {
            this.turns.delete(channel);
          }
        });
      })
      .catch(() => undefined);
  }

  /** The shard's messages after `after`, from its log. */
  history(after: StreamPosition): AsyncIterable<readonly BusMessage[]> {
    const epoch = this.epoch;
    const { client, commands } = this.options;
    // Streams resuming from the same place at once (a reconnect storm) share one read.
    return logHistory(after, (afterId) =>
      this.pages.read(`${epoch}.${afterId}`, async () =>
        toLogPage(
          await commands.ask(
            client.sseBusHistory(
              this.keys.meta,
              this.keys.log,
              epoch,
              afterId,
              String(HISTORY_PAGE_SIZE),
            ),
          ),
          (entry) => this.fromLog(entry),
        ),
      ),
    );
  }

  /** Drops the shard's messages from before `ms` (see `BusTransport.trimBefore`). */
  trimBefore(ms: number): Promise<number> {
    return this.options.client.sseBusTrimBefore(this.keys.meta, this.keys.log, String(ms));
  }

  /** Takes the subscription until it holds, however many tries that takes. */
  private async run(): Promise<void> {
    for (let attempt = 1; !this.closed; attempt++) {
      try {
        await this.subscribeAndFill();
        return;
      } catch (err) {
        this.connection?.disconnect();
        if (this.closed) return;
        this.options.logger.warn(
          `Shard ${this.options.shard}: not reading (${(err as Error).message}), retrying`,
        );
        await delay(Math.min(100 * attempt, 1000));
      }
    }
  }

  private async subscribeAndFill(): Promise<void> {
    this.live = false;
    this.held = [];
    this.turns = new Map();
    const connection = await this.connect();
    const channels = [...this.wanted.keys()];
    await this.ssubscribe(connection, [ANCHOR, ...channels]);
    await this.fill();
    if (connection.status !== 'ready') throw new Error('Connection to Redis lost');
    this.subscribed = new Set(channels.filter((channel) => this.wanted.has(channel)));
    const held = this.held;
    this.held = undefined;
    held.forEach((message) => this.deliver(message));
    this.live = true;
    // Wanted while the subscription was being taken: subscribed now.
    const late = [...this.wanted.keys()].filter((channel) => !this.subscribed.has(channel));
    if (late.length > 0) this.subscribe(connection, late);
    this.notify();
  }

  /** A connection to the node that serves the shard now, listening. */
  private async connect(): Promise<Redis> {
    const { client, commandTimeoutMs, tag } = this.options;
    this.slot ??= (await withDeadline(
      client.call('CLUSTER', 'KEYSLOT', this.keys.log),
      commandTimeoutMs,
      'CLUSTER KEYSLOT',
    )) as number;
    const slots = (await withDeadline(
      client.call('CLUSTER', 'SLOTS'),
      commandTimeoutMs,
      'CLUSTER SLOTS',
    )) as [number, number, [string, number]][];
    const range = slots.find(([from, to]) => this.slot! >= from && this.slot! <= to);
    if (!range) throw new Error(`No node serves the slot of ${tag}`);
    const connection = new Redis({
      host: range[2][0],
      port: range[2][1],
      lazyConnect: true,
      protocol: 2,
      connectTimeout: commandTimeoutMs,
      // This reader reconnects, subscribes and fills the gap itself.
      retryStrategy: () => null,
      autoResubscribe: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectionName: `sse-bus:shard-${this.options.shard}`,
    });
    connection.on('error', () => undefined);
    connection.on('smessage', (_channel: string, text: string) => this.heard(text));
    // The slot moved away: the server ended the subscription.
    connection.on('moved', () => connection.disconnect());
    connection.once('close', () => this.lost(connection));
    this.connection = connection;
    await connection.connect();
    this.options.bytesRead.watch(connection.stream);
    return connection;
  }

  /** Catches up with the log: what it holds after `top` on the wanted channels. */
  private async fill(): Promise<void> {
    const { client, commands } = this.options;
    const [epoch, logTop, hole] = await commands.ask(
      client.sseBusSync(this.keys.meta, this.keys.log, newEpoch(), formatStreamId(this.top)),
    );
    const top = parseStreamId(logTop);
    if (this.epoch === '') {
      this.epoch = epoch;
      this.options.epochChanged();
      this.top = top;
      return;
    }
    if (epoch !== this.epoch) {
      this.epoch = epoch;
      this.options.epochChanged();
      this.reset('lost', START);
    } else {
      // Messages given out that are no longer in the log: a failover lost them.
      const from = afterLoss(this.top, top, hole);
      if (from) this.reset('lost', from);
    }
    try {
      for await (const page of this.history(this.top)) {
        for (const message of page) {
          if (channelsOf(message).some((channel) => this.wanted.has(channel))) {
            this.deliver(message);
          } else {
            this.top = message.position;
          }
        }
      }
    } catch (err) {
      if (!(err instanceof HistoryGap)) throw err;
      if (err.reason !== 'expired') throw err;
      // Away for longer than the log keeps: what was missed is gone.
      this.reset('expired', top);
    }
  }

  private heard(text: string): void {
    const fields = text.split(SEPARATOR);
    if (fields.length !== 7) return;
    const [id, epoch, spread, to, topics, event, data] = fields;
    if (epoch !== this.epoch) {
      // A log of another life: start over, through the log.
      if (this.live) this.connection?.disconnect();
      return;
    }
    const message = this.toMessage(id, to, topics, event, data, spread);
    if (this.held) this.held.push(message);
    else this.deliver(message);
  }

  private deliver(message: BusMessage): void {
    // A message on several of this instance's channels is heard once per channel.
    if (comparePositions(message.position, this.top) <= 0) return;
    this.top = message.position;
    this.options.emit(message);
  }

  private reset(reason: ResetReason, position: StreamPosition): void {
    const { shard, logger } = this.options;
    logger.warn(`Shard ${shard} lost messages (${reason}): its streams are reset`);
    this.top = position;
    this.options.emit({
      kind: 'reset',
      id: formatVector('0', new Map([[shard, position]])),
      position,
      reason,
      shard,
    });
  }

  private lost(connection: Redis): void {
    if (connection !== this.connection || this.closed) return;
    this.subscribed.clear();
    if (!this.live) return;
    this.live = false;
    this.options.reconnected();
    this.running = this.run();
  }

  private subscribe(connection: Redis, channels: readonly string[]): void {
    const turns = channels.map((channel) => this.turn(channel));
    this.ssubscribe(connection, channels).then(
      () => {
        if (connection !== this.connection) return;
        channels.forEach((channel, i) => {
          if (this.turns.get(channel) === turns[i]) this.subscribed.add(channel);
        });
        this.notify();
      },
      // Unanswered or refused: taking the subscription again, on a new connection, takes these.
      () => connection.disconnect(),
    );
  }

  /** Subscribes `connection` to the shard's `channels`; rejects if Redis does not answer in time. */
  private ssubscribe(connection: Redis, channels: readonly string[]): Promise<unknown> {
    const { tag, commandTimeoutMs } = this.options;
    return withDeadline(
      connection.ssubscribe(...channels.map((channel) => tag + channel)),
      commandTimeoutMs,
      'SSUBSCRIBE',
    );
  }

  private turn(channel: string): number {
    const turn = (this.turns.get(channel) ?? 0) + 1;
    this.turns.set(channel, turn);
    return turn;
  }

  private notify(): void {
    this.waiters = this.waiters.filter(({ channels, resolve }) => {
      if (!channels.every((channel) => this.subscribed.has(channel))) return true;
      resolve();
      return false;
    });
  }

  private ping(): void {
    const connection = this.connection;
    if (!this.live || !connection) return;
    withDeadline(connection.ping(), this.options.commandTimeoutMs, 'PING').catch(() =>
      connection.disconnect(),
    );
  }

  private fromLog([id, fields]: LogEntry): BusMessage {
    // Fields in the order the publish script writes them: e, to, ev, d, tp, sp.
    return this.toMessage(id, fields[3], fields[9], fields[5], fields[7], fields[11]);
  }

  private toMessage(
    id: string,
    to: string,
    topics: string,
    event: string,
    data: string,
    spread: string,
  ): BusMessage {
    const shard = this.options.shard;
    const position = parseStreamId(id);
    return {
      kind: 'message',
      id: formatVector('0', new Map([[shard, position]])),
      position,
      to: to === '' ? null : to.split('\n'),
      topics: topics === '' ? null : topics.split('\n'),
      event: event === '' ? undefined : event,
      data,
      shard,
      spread: spread === '' ? undefined : Number(spread),
    };
  }
}
