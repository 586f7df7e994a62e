import { Logger } from '@nestjs/common';
import { BusUnavailableError } from '../../errors/bus-unavailable.error.js';
import { DeadlineExceeded, delay, withDeadline } from '../../redis/deadline.js';
import type { Redis } from 'ioredis';
import { closeRedis, onReconnect, openRedis } from '../../redis/redis-connection.js';
import { RedisWatchdog } from '../../redis/redis-watchdog.js';
import type { BusCounters } from '../bus-counters.js';
import type { BusMessage } from '../bus-event.js';
import {
  HISTORY_PAGE_SIZE,
  type OutgoingMessage,
  SingleLogTransport,
  type TransportHealth,
} from '../bus-transport.js';
import { type LogEventId, formatEventId } from '../event-id.js';
import type { IdempotencyLimits } from '../idempotency.js';
import { type LogPosition, formatEntryId } from '../log-position.js';
import { MembershipProjection } from '../membership-projection.js';
import { type Membership, topicChangeOf } from '../topic-change.js';
import { RecentWindow } from './recent-window.js';
import { type Appended, type LogLink, type LogWrite, RedisLog } from './redis-log.js';
import { LOG_SCRIPTS, type LogEntry, type LogScripts } from './redis-log.scripts.js';

/** What both Redis transports are given. */
export interface RedisBusOptions {
  /** `redis://…`, or `redis-cluster://host:port,…` */
  readonly url: string;
  /** Prefix of the keys; each prefix is a separate bus. */
  readonly keyPrefix: string;
  /** Messages a log keeps for resume (`MAXLEN ~`). */
  readonly maxLength: number;
  /** Idempotency keys each log remembers: for how long, and how many. */
  readonly idempotency: IdempotencyLimits;
  /** How long a client's membership is kept after its last change or its last stream. */
  readonly membershipTtlMs: number;
  /** How long a command may take before the connection is treated as dead. */
  readonly commandTimeoutMs: number;
  /** Where its reconnections and the bytes it reads are counted. */
  readonly counters: BusCounters;
}

export interface RedisTransportOptions extends RedisBusOptions {
  /** Bytes of messages kept in memory for resuming clients, at most (see `RecentWindow`). */
  readonly recentMaxBytes: number;
  /** How long one `XREAD` blocks: a reader that stays silent longer than this is wedged. */
  readonly blockMs: number;
  /** How long the reader reads on while nothing here wants the log's events. */
  readonly idleMs: number;
}

type ScriptedRedis = Redis & LogScripts;

/**
 * The bus on one Redis: its log (`RedisLog`), and one reader per process that tails it with
 * `XREAD BLOCK` from the last entry it read. What it reads becomes `events$`, and the latest of
 * it is kept in memory for resuming clients (`RecentWindow`). A reader that loses its connection
 * picks up where it stopped; one that finds the log lost what it read announces a reset.
 *
 * Reading back every message costs a publishing process about as much as writing it. So while
 * nothing here wants the events (no stream open, nothing subscribed to the bus's events) for
 * `idleMs`, the reader stops; the next stream waits for it to start over where the log is then,
 * as at the start, since what was published meanwhile is owed to no stream here.
 */
export class RedisTransport extends SingleLogTransport {
  private readonly logger = new Logger(RedisTransport.name);
  /** Publishes and reads history: fails fast while disconnected instead of queueing. */
  private readonly writer: ScriptedRedis;
  /** Only ever blocked in `XREAD`, or pinging while the reader has stopped. */
  private readonly reader: LogLink;
  private readonly log: RedisLog;
  /** What the reader read last, where resuming clients are served from first. */
  private readonly recent: RecentWindow;
  protected readonly memberships = new MembershipProjection();
  /** Clients with a membership whose last stream here ended since it was last kept. */
  private readonly ended = new Set<string>();
  private reading = false;
  private problem: string | undefined;
  private closed = false;
  private loop: Promise<void> | undefined;
  private writerReady: Promise<void> | undefined;
  /** Streams and other subscribers that want the events now. */
  private attending = 0;
  /** Since when nothing has wanted the events (ms). */
  private idleSince = Date.now();
  /** While the reader has stopped: starts it again. */
  private wake: (() => void) | undefined;
  /** From when the reader stops until it reads again: settles once it does. */
  private resuming: Promise<void> | undefined;
  private resumed: (() => void) | undefined;

  constructor(private readonly options: RedisTransportOptions) {
    super();
    const { commandTimeoutMs, blockMs, counters } = options;
    this.writer = this.connect('writer', false);
    const reader = this.connect('reader', true);
    // A reader blocks in XREAD for up to `blockMs`: silent longer than that and a command's time
    // means it is wedged.
    this.reader = {
      redis: reader,
      commands: new RedisWatchdog(reader, blockMs + commandTimeoutMs),
    };
    this.log = new RedisLog({
      writer: { redis: this.writer, commands: new RedisWatchdog(this.writer, commandTimeoutMs) },
      reader: this.reader,
      hashTag: `{${options.keyPrefix}}`,
      maxLength: options.maxLength,
      idempotency: options.idempotency,
      membershipTtlMs: options.membershipTtlMs,
      waitReplicas: 0,
      commandTimeoutMs,
      whenWritable: (ms) => this.whenWriterReady(ms),
    });
    this.recent = new RecentWindow(options.maxLength, options.recentMaxBytes);
    reader.on('close', () => this.setReading(false, 'connection to Redis lost'));
    reader.on('connect', () => counters.redisBytesRead.watch(reader.stream));
    for (const client of [this.writer, reader]) {
      onReconnect(client, () => counters.redisReconnects++);
    }
  }

  protected logPosition(): string {
    return formatEventId(this.log.epoch, this.log.top);
  }

  async start(): Promise<void> {
    try {
      await Promise.all([this.writer.connect(), this.reader.redis.connect()]);
      await this.startOver();
    } catch (err) {
      this.writer.disconnect();
      this.reader.redis.disconnect();
      throw new BusUnavailableError(`Cannot reach Redis: ${(err as Error).message}`);
    }
    this.setReading(true);
    this.loop = this.read();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    // Interrupts the blocked XREAD; quit() would wait up to blockMs for it.
    this.reader.redis.disconnect();
    await this.loop;
    await closeRedis(this.writer, this.options.commandTimeoutMs);
    this.read$.complete();
  }

  override attend(): Promise<void> | undefined {
    this.attending++;
    this.wake?.();
    return this.resuming;
  }

  override unattend(): void {
    if (--this.attending === 0) this.idleSince = Date.now();
  }

  health(): TransportHealth {
    return {
      transport: 'redis',
      reading: this.reading,
      writing: this.writer.status === 'ready',
      detail: this.problem,
    };
  }

  publish(message: OutgoingMessage, timeoutMs: number): Promise<string> {
    return this.log.append(logWrite(message), timeoutMs).then(eventIdOf);
  }

  override publishAll(
    messages: readonly OutgoingMessage[],
    timeoutMs: number,
  ): Promise<PromiseSettledResult<string>[]> {
    return this.log
      .appendAll(messages.map(logWrite), timeoutMs)
      .then((outcomes) =>
        outcomes.map((outcome) =>
          outcome.status === 'fulfilled'
            ? { status: 'fulfilled', value: eventIdOf(outcome.value) }
            : outcome,
        ),
      );
  }

  history(after: LogEventId): AsyncIterable<readonly BusMessage[]> {
    const { epoch } = after;
    return this.log.history(after, epoch, (from) =>
      this.recent.after({ epoch, ...from }, HISTORY_PAGE_SIZE),
    );
  }

  keepMembership(clientId: string): void {
    if (this.memberships.has(clientId)) this.ended.add(clientId);
  }

  async keepMemberships(clientIds: Iterable<string>): Promise<void> {
    const kept = new Set(this.ended);
    this.ended.clear();
    for (const clientId of clientIds) if (this.memberships.has(clientId)) kept.add(clientId);
    if (kept.size > 0) await this.log.keepMemberships([...kept]);
  }

  async trimBefore(ms: number): Promise<void> {
    this.recent.dropBefore(ms);
    await this.log.trimBefore(ms);
  }

  /** The writer fails fast while disconnected instead of queueing; the reader just waits. */
  private connect(role: string, enableOfflineQueue: boolean): ScriptedRedis {
    return openRedis(this.options.url, role, this.logger, LOG_SCRIPTS, {
      enableOfflineQueue,
    }) as ScriptedRedis;
  }

  /** Reads on from the end of the log as it is now, with its memberships as they stand there. */
  private async startOver(): Promise<void> {
    this.restartAtTop((await this.log.sync(true)).memberships);
  }

  /** Holds `memberships`, and a recent window that starts at the log's `top`. */
  private restartAtTop(memberships: Iterable<readonly [string, Membership, LogPosition]>): void {
    this.memberships.restart(memberships);
    this.recent.restart(this.log.epoch, this.log.top);
  }

  /**
   * Waits, the reader stopped, until something wants the events, or for as long as an `XREAD`
   * blocks: then pings, as a Redis that stopped answering must still show in `health()`.
   */
  private async idle(): Promise<void> {
    this.resuming ??= new Promise<void>((resolve) => (this.resumed = resolve));
    let timer: NodeJS.Timeout | undefined;
    const woken = await new Promise<boolean>((resolve) => {
      this.wake = () => resolve(true);
      timer = setTimeout(() => resolve(false), this.options.blockMs);
    });
    clearTimeout(timer);
    this.wake = undefined;
    if (woken) return;
    await this.reader.commands.ask(this.reader.redis.ping());
    this.setReading(true);
  }

  /** Those who waited for the reader to read again go on (see `attend`). */
  private resume(): void {
    this.resumed?.();
    this.resuming = this.resumed = undefined;
  }

  /**
   * Finds the epoch and where to read from; when the log lost what was read from it (a new
   * epoch, or entries gone), every subscriber is reset. Unless what it reads next follows what it
   * read last, the memberships are taken from the log anew and the recent window starts over.
   */
  private async sync(): Promise<void> {
    const { lostFrom, memberships } = await this.log.sync();
    if (lostFrom) {
      this.logger.warn('The log lost messages read from it: subscribers are reset');
      this.read$.next(this.log.reset('lost', lostFrom));
    }
    if (lostFrom || !(await this.log.holdsEverythingAfterTop())) {
      this.restartAtTop(memberships);
    }
  }

  private async read(): Promise<void> {
    let synced = true;
    while (!this.closed) {
      try {
        if (this.attending === 0 && Date.now() - this.idleSince >= this.options.idleMs) {
          await this.idle();
          continue;
        }
        if (this.resuming) {
          // What was published while it stopped is owed to no stream here.
          await this.startOver();
          this.resume();
          synced = true;
        } else if (!synced) {
          await this.sync();
          synced = true;
        }
        const reply = (await this.reader.commands.ask(
          this.reader.redis.xread(
            'COUNT',
            1000,
            'BLOCK',
            this.options.blockMs,
            'STREAMS',
            this.log.keys.log,
            formatEntryId(this.log.top),
          ),
        )) as [string, LogEntry[]][] | null;
        this.setReading(true);
        if (reply) synced = this.deliver(reply[0][1]);
      } catch (err) {
        if (this.closed) break;
        this.setReading(false, (err as Error).message);
        // Streams that waited for it start where it stopped, and get what it reads on from there.
        this.resume();
        synced = false;
        // A reader that stopped answering may sit on a dead socket: start a new one.
        if (err instanceof DeadlineExceeded) this.reader.redis.disconnect(true);
        await delay(100);
      }
    }
    this.resume();
  }

  /** Emits the entries in order; false when one is from another epoch (the log was replaced). */
  private deliver(entries: LogEntry[]): boolean {
    for (const entry of entries) {
      const message = this.log.decodeRead(entry);
      if (!message) return false;
      this.log.top = message.position;
      if (topicChangeOf(message)) this.memberships.apply(message);
      this.recent.add(message);
      this.read$.next(message);
    }
    return true;
  }

  /** Waits for the writer to be connected: one listener however many publishes wait. */
  private whenWriterReady(ms: number): Promise<void> {
    if (this.writer.status === 'ready') return Promise.resolve();
    this.writerReady ??= new Promise<void>((resolve) =>
      this.writer.once('ready', () => {
        this.writerReady = undefined;
        resolve();
      }),
    );
    return withDeadline(this.writerReady, ms, 'Redis is unreachable');
  }

  private setReading(reading: boolean, problem?: string): void {
    if (reading === this.reading) return;
    this.reading = reading;
    this.problem = problem;
    if (reading) this.logger.log('Reading the log from Redis');
    else if (!this.closed) this.logger.error(`Not reading the log from Redis: ${problem}`);
  }
}

/** A message of the log with one order: on no channel, to no other shard. */
function logWrite(message: OutgoingMessage): LogWrite {
  return { message, channels: [], spread: '' };
}

function eventIdOf({ epoch, entryId }: Appended): string {
  return `${epoch}.${entryId}`;
}
