import type { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { delay, withDeadline } from '../../redis/deadline.js';
import type { RedisClient } from '../../redis/redis-connection.js';
import type { BusCounters } from '../bus-counters.js';
import type { BusEvent, BusMessage, ResetReason } from '../bus-event.js';
import { HistoryGap } from '../bus-transport.js';
import { channelsOf } from '../channels.js';
import { type LogPosition, START, comparePositions } from '../log-position.js';
import { heldBytes } from '../message-size.js';
import { ChannelSet } from './channel-set.js';
import type { RedisLog } from './redis-log.js';

/** What the readers of a sharded log share: the transport they read for. */
export interface ShardHost {
  /** The cluster client, which finds the node that serves a shard. */
  readonly client: RedisClient & { call(...args: string[]): Promise<unknown> };
  readonly commandTimeoutMs: number;
  /** How often a subscription is pinged: one that stays silent longer is replaced. */
  readonly pingMs: number;
  readonly logger: Logger;
  /** Where reconnections and what the subscriptions read are counted. */
  readonly counters: BusCounters;
  /** Where what a reader reads goes, in its shard's order. */
  emit(event: BusEvent): void;
  /** The epoch of a shard's log is known, or a new one. */
  epochChanged(): void;
}

/**
 * A channel the reader never leaves, which nobody publishes on. When a connection's last
 * subscription ends, ioredis leaves subscriber mode, even with an SSUBSCRIBE on its way: it
 * would then take that subscription's messages for replies, and lose them.
 */
const ANCHOR = '_';

/**
 * Bytes of messages heard while the gap is filled that a reader holds back, at most (see
 * `heldBytes`). Past it, it lets them go and reads them from the log instead: every message
 * heard is in the log, which the script appends to before it publishes.
 */
const MAX_HELD_BYTES = 8 * 1024 * 1024;

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
  /** Reading live: subscribed, and caught up with the log. */
  live = false;
  private readonly channels = new ChannelSet();
  private connection: Redis | undefined;
  /** Heard while the gap is filled: given out after it, if still new. */
  private held: BusMessage[] | undefined = [];
  /** What `held` counts for; undefined once past `MAX_HELD_BYTES`, until the gap is filled again. */
  private heldSize: number | undefined = 0;
  private slot: number | undefined;
  private running: Promise<void> | undefined;
  private closed = false;
  private readonly pinger: NodeJS.Timeout;

  constructor(
    private readonly log: RedisLog,
    private readonly host: ShardHost,
  ) {
    this.pinger = setInterval(() => this.ping(), host.pingMs);
  }

  /**
   * Where the log ended when a channel was last subscribed: what was written before on it was
   * not heard, and is before any stream that listens on it now.
   */
  private subscribedAt: LogPosition = START;

  /** The last message of the shard given out. */
  get top(): LogPosition {
    return this.log.top;
  }

  /**
   * Where a new stream starts on this shard: after what was given out, and after all that was
   * written before its channels were subscribed (which the reader did not hear).
   */
  get newStreamStart(): LogPosition {
    return comparePositions(this.subscribedAt, this.top) > 0 ? this.subscribedAt : this.top;
  }

  get epoch(): string {
    return this.log.epoch;
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
    const fresh = this.channels.want(channels);
    if (fresh.length > 0 && this.live) this.subscribe(this.connection!, fresh);
    return this.channels.whenSubscribed(channels);
  }

  /** Whether a stream here listens on `channel`. */
  wants(channel: string): boolean {
    return this.channels.wants(channel);
  }

  /** A stream no longer listens on `channels`. */
  release(channels: readonly string[]): void {
    const gone = this.channels.release(channels);
    if (gone.length === 0 || !this.live) return;
    const connection = this.connection!;
    const generations = this.channels.sending(gone);
    connection
      .sunsubscribe(...gone.map((channel) => this.log.options.hashTag + channel))
      .then(() => {
        if (connection === this.connection) this.channels.confirmUnsubscribe(gone, generations);
      })
      .catch(() => undefined);
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
        this.host.logger.warn(
          `Shard ${this.log.options.shard}: not reading (${(err as Error).message}), retrying`,
        );
        await delay(Math.min(100 * attempt, 1000));
      }
    }
  }

  private async subscribeAndFill(): Promise<void> {
    this.live = false;
    this.holdFromScratch();
    const connection = await this.connect();
    const channels = this.channels.all;
    await this.ssubscribe(connection, [ANCHOR, ...channels]);
    await this.fill();
    // Heard more than it may hold meanwhile: what it let go is in the log, after what it read.
    while (this.heldSize === undefined) {
      this.holdFromScratch();
      await this.fill();
    }
    if (connection.status !== 'ready') throw new Error('Connection to Redis lost');
    this.channels.taken(channels);
    const held = this.held!;
    this.held = undefined;
    held.forEach((message) => this.deliver(message));
    this.live = true;
    // Wanted while the subscription was being taken: subscribed now.
    const late = this.channels.missing();
    if (late.length > 0) this.subscribe(connection, late);
  }

  /** A connection to the node that serves the shard now, listening. */
  private async connect(): Promise<Redis> {
    const { client, commandTimeoutMs } = this.host;
    const { hashTag, shard } = this.log.options;
    this.slot ??= (await withDeadline(
      client.call('CLUSTER', 'KEYSLOT', this.log.keys.log),
      commandTimeoutMs,
      'CLUSTER KEYSLOT',
    )) as number;
    const slots = (await withDeadline(
      client.call('CLUSTER', 'SLOTS'),
      commandTimeoutMs,
      'CLUSTER SLOTS',
    )) as [number, number, [string, number]][];
    const range = slots.find(([from, to]) => this.slot! >= from && this.slot! <= to);
    if (!range) throw new Error(`No node serves the slot of ${hashTag}`);
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
      connectionName: `sse-bus:shard-${shard}`,
    });
    connection.on('error', () => undefined);
    connection.on('smessage', (_channel: string, text: string) => this.heard(text));
    // The slot moved away: the server ended the subscription.
    connection.on('moved', () => connection.disconnect());
    connection.once('close', () => this.lost(connection));
    this.connection = connection;
    await connection.connect();
    this.host.counters.redisBytesRead.watch(connection.stream);
    return connection;
  }

  /** Catches up with the log: what it holds after `top` on the wanted channels. */
  private async fill(): Promise<void> {
    const { log } = this;
    const epoch = log.epoch;
    const { end, lostFrom } = await log.sync();
    if (log.epoch !== epoch) this.host.epochChanged();
    // Read for the first time: a new stream starts here.
    if (epoch === '') return;
    // Messages given out that are no longer in the log: a failover lost them.
    if (lostFrom) this.reset('lost', lostFrom);
    try {
      for await (const page of log.history(log.top)) {
        for (const message of page) {
          if (channelsOf(message).some((channel) => this.channels.wants(channel))) {
            this.deliver(message);
          } else {
            log.top = message.position;
          }
        }
      }
    } catch (err) {
      if (!(err instanceof HistoryGap) || err.reason !== 'expired') throw err;
      // Away for longer than the log keeps: what was missed is gone.
      this.reset('expired', end);
    }
  }

  private heard(text: string): void {
    const published = this.log.decodePublished(text);
    if (!published) return;
    if (published.epoch !== this.epoch) {
      // A log of another life: start over, through the log.
      if (this.live) this.connection?.disconnect();
      return;
    }
    if (!this.held) return this.deliver(published.message);
    if (this.heldSize === undefined) return;
    this.heldSize += heldBytes(published.message);
    if (this.heldSize <= MAX_HELD_BYTES) this.held.push(published.message);
    else [this.held, this.heldSize] = [[], undefined];
  }

  private holdFromScratch(): void {
    this.held = [];
    this.heldSize = 0;
  }

  private deliver(message: BusMessage): void {
    // A message on several of this instance's channels is heard once per channel.
    if (comparePositions(message.position, this.top) <= 0) return;
    this.log.top = message.position;
    this.host.emit(message);
  }

  private reset(reason: ResetReason, position: LogPosition): void {
    this.host.logger.warn(
      `Shard ${this.log.options.shard} lost messages (${reason}): its streams are reset`,
    );
    this.log.top = position;
    this.host.emit(this.log.reset(reason, position));
  }

  private lost(connection: Redis): void {
    if (connection !== this.connection || this.closed) return;
    this.channels.lost();
    if (!this.live) return;
    this.live = false;
    this.host.counters.redisReconnects++;
    this.running = this.run();
  }

  private subscribe(connection: Redis, channels: readonly string[]): void {
    const generations = this.channels.sending(channels);
    this.ssubscribe(connection, channels)
      .then(() => this.log.end())
      .then(
        (end) => {
          if (comparePositions(end, this.subscribedAt) > 0) this.subscribedAt = end;
          if (connection === this.connection) this.channels.confirmSubscribe(channels, generations);
        },
        // Unanswered or refused: taking the subscription again, on a new connection, takes these.
        () => connection.disconnect(),
      );
  }

  /** Subscribes `connection` to the shard's `channels`; rejects if Redis does not answer in time. */
  private ssubscribe(connection: Redis, channels: readonly string[]): Promise<unknown> {
    const { hashTag } = this.log.options;
    const { commandTimeoutMs } = this.host;
    return withDeadline(
      connection.ssubscribe(...channels.map((channel) => hashTag + channel)),
      commandTimeoutMs,
      'SSUBSCRIBE',
    );
  }

  private ping(): void {
    const connection = this.connection;
    if (!this.live || !connection) return;
    withDeadline(connection.ping(), this.host.commandTimeoutMs, 'PING').catch(() =>
      connection.disconnect(),
    );
  }
}
