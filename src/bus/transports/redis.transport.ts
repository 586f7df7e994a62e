import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Subject } from 'rxjs';
import type { BusMetrics } from '../../metrics/bus-metrics.js';
import type { BusEvent, BusMessage } from '../bus-event.js';
import {
  type OutgoingMessage,
  SingleLogTransport,
  type TransportHealth,
} from '../bus-transport.js';
import {
  type Cursor,
  type StreamPosition,
  START,
  formatCursor,
  formatStreamId,
  newEpoch,
  parseStreamId,
} from '../cursor.js';
import { BusUnavailableError } from '../errors/bus-unavailable.error.js';
import { DeadlineExceeded, delay, withDeadline } from './deadline.js';
import { HISTORY_PAGE_SIZE } from './history-page-size.js';
import { appendUntil } from './append-until.js';
import { InFlight } from './in-flight.js';
import { afterLoss, holdsEverythingAfter } from './log-continuity.js';
import { type LogEntry, type LogPage, logHistory, toLogPage } from './log-history.js';
import { PublishBatch } from './publish-batch.js';
import { closeRedis, openRedis } from './redis-connection.js';
import { RecentWindow } from './recent-window.js';
import { RedisWatchdog } from './redis-watchdog.js';
import {
  HISTORY_SCRIPT,
  type LogScripts,
  PUBLISH_SCRIPT,
  SYNC_SCRIPT,
  TRIM_BEFORE_SCRIPT,
} from './redis.scripts.js';
import { SharedReads } from './shared-reads.js';

export interface RedisTransportOptions {
  readonly url: string;
  /** Prefix of the keys; each prefix is a separate bus. */
  readonly keyPrefix: string;
  /** Messages kept for resume (`MAXLEN ~`). */
  readonly maxLength: number;
  /** Bytes of message data kept in memory for resuming clients, at most. */
  readonly recentMaxBytes: number;
  /** How long a command may take before the connection is treated as dead. */
  readonly commandTimeoutMs: number;
  /** How long one `XREAD` blocks: a reader that stays silent longer than this is wedged. */
  readonly blockMs: number;
  /** Where its reconnections are counted. */
  readonly metrics: BusMetrics;
}

/**
 * Messages per script call, and bytes of data: enough to take a turn's publishes in one call,
 * few enough that one call never holds Redis up for long (~1 ms).
 */
const BATCH_LIMITS = {
  maxItems: 512,
  maxBytes: 1024 * 1024,
  bytesOf: (message: OutgoingMessage) => message.data.length,
};

interface ScriptedRedis extends Redis, LogScripts {
  sseBusPublish(meta: string, log: string, receipt: string, ...args: string[]): Promise<string>;
}

/**
 * The bus on a Redis stream: the publishes of one turn of the event loop are one script call
 * (their `XADD`s, the epoch kept, a receipt against a second append on retry), and each
 * process runs one reader that tails the stream with `XREAD BLOCK` from the last id it read. A
 * reader that loses its connection picks up where it stopped; one that finds a new epoch
 * announces a reset and reads the new log from its start.
 */
export class RedisTransport extends SingleLogTransport {
  private readonly logger = new Logger(RedisTransport.name);
  private readonly subject = new Subject<BusEvent>();
  readonly events$ = this.subject.asObservable();
  private readonly keys: { meta: string; log: string; receipts: string };
  /** Publishes and reads history: fails fast while disconnected instead of queueing. */
  private readonly writer: ScriptedRedis;
  /** Only ever blocked in `XREAD`. */
  private readonly reader: ScriptedRedis;
  private readonly writerCommands: RedisWatchdog;
  private readonly readerCommands: InFlight;
  /** What the reader read last, where resuming clients are served from first. */
  private readonly recent: RecentWindow;
  private readonly logPages = new SharedReads<LogPage>();
  private epoch = '';
  private top: StreamPosition = START;
  private reading = false;
  private problem: string | undefined;
  private closed = false;
  private loop: Promise<void> | undefined;
  private writerReady: Promise<void> | undefined;
  private readonly batch = new PublishBatch<OutgoingMessage, string>(
    (messages, until) => this.append(messages, until),
    BATCH_LIMITS,
  );

  constructor(private readonly options: RedisTransportOptions) {
    super();
    const tag = `{${options.keyPrefix}}`;
    this.keys = { meta: `${tag}:meta`, log: `${tag}:log`, receipts: `${tag}:receipt:` };
    this.writer = this.connect('writer', false);
    this.reader = this.connect('reader', true);
    this.writerCommands = new RedisWatchdog(this.writer, options.commandTimeoutMs);
    this.readerCommands = new InFlight(this.reader);
    this.recent = new RecentWindow(options.maxLength, options.recentMaxBytes);
    this.reader.on('close', () => this.setReading(false, 'connection to Redis lost'));
    this.reader.on('connect', () => options.metrics.redisBytesRead.watch(this.reader.stream));
    this.countReconnects(this.writer);
    this.countReconnects(this.reader);
  }

  protected logPosition(): string {
    return formatCursor(this.epoch, this.top);
  }

  async start(): Promise<void> {
    try {
      await Promise.all([this.writer.connect(), this.reader.connect()]);
      await this.sync();
      this.recent.restart(this.epoch, this.top);
    } catch (err) {
      this.writer.disconnect();
      this.reader.disconnect();
      throw new BusUnavailableError(`Cannot reach Redis: ${(err as Error).message}`);
    }
    this.setReading(true);
    this.loop = this.read();
  }

  async close(): Promise<void> {
    this.closed = true;
    // Interrupts the blocked XREAD; quit() would wait up to blockMs for it.
    this.reader.disconnect();
    await this.loop;
    await closeRedis(this.writer, this.options.commandTimeoutMs);
    this.subject.complete();
  }

  health(): TransportHealth {
    return {
      transport: 'redis',
      reading: this.reading,
      writing: this.writer.status === 'ready',
      detail: this.problem,
    };
  }

  async publish(message: OutgoingMessage, timeoutMs: number): Promise<string> {
    try {
      return await this.batch.add(message, Date.now() + timeoutMs);
    } catch (err) {
      if (err instanceof DeadlineExceeded) {
        throw new BusUnavailableError(
          `Message not published within ${timeoutMs} ms: ${err.message}`,
        );
      }
      throw err;
    }
  }

  /**
   * Appends a batch with one script call, tried again until `deadline`, the last of its
   * messages'. The receipt makes a retry of a batch that did land return its first ids.
   */
  private async append(messages: readonly OutgoingMessage[], deadline: number): Promise<string[]> {
    const receipt = this.keys.receipts + randomUUID();
    const args = [
      newEpoch(),
      String(this.options.maxLength),
      // Long enough to outlive every retry of this batch.
      String(deadline - Date.now() + 10_000),
    ];
    for (const message of messages) {
      args.push(
        message.to === null ? '' : message.to.join('\n'),
        message.event ?? '',
        message.data,
        message.topics === null ? '' : message.topics.join('\n'),
      );
    }
    return appendUntil(deadline, async (left) => {
      await this.whenWriterReady(left);
      const reply = await this.writerCommands.ask(
        this.writer.sseBusPublish(this.keys.meta, this.keys.log, receipt, ...args),
        deadline - Date.now(),
      );
      const [epoch, ...ids] = reply.split(' ');
      return ids.map((id) => `${epoch}.${id}`);
    });
  }

  history(cursor: Cursor): AsyncIterable<readonly BusMessage[]> {
    const { epoch } = cursor;
    return logHistory(
      cursor,
      (afterId) =>
        this.logPages.read(`${epoch}.${afterId}`, async () =>
          toLogPage(
            await this.writerCommands.ask(
              this.writer.sseBusHistory(
                this.keys.meta,
                this.keys.log,
                epoch,
                afterId,
                String(HISTORY_PAGE_SIZE),
              ),
              this.options.commandTimeoutMs,
            ),
            (entry) => this.toMessage(entry, epoch),
          ),
        ),
      (after) => this.recent.after({ epoch, ...after }, HISTORY_PAGE_SIZE),
    );
  }

  /** `XTRIM MINID`, exact rather than `~`: a cursor just after the cut must still replay. */
  async trimBefore(ms: number): Promise<void> {
    this.recent.dropBefore(ms);
    await this.writerCommands.ask(
      this.writer.sseBusTrimBefore(this.keys.meta, this.keys.log, String(ms)),
    );
  }

  /** The writer fails fast while disconnected instead of queueing; the reader just waits. */
  private connect(role: string, enableOfflineQueue: boolean): ScriptedRedis {
    return openRedis(
      this.options.url,
      role,
      this.logger,
      {
        sseBusSync: { numberOfKeys: 2, lua: SYNC_SCRIPT },
        sseBusPublish: { numberOfKeys: 3, lua: PUBLISH_SCRIPT },
        sseBusHistory: { numberOfKeys: 2, lua: HISTORY_SCRIPT },
        sseBusTrimBefore: { numberOfKeys: 2, lua: TRIM_BEFORE_SCRIPT },
      },
      { enableOfflineQueue },
    ) as ScriptedRedis;
  }

  /**
   * Finds the epoch and where to read from. False when the log lost what was read from it (a new
   * epoch, or entries gone): every subscriber is reset.
   */
  private async sync(): Promise<boolean> {
    const [epoch, top, hole] = await withDeadline(
      this.readerCommands.track(
        this.reader.sseBusSync(this.keys.meta, this.keys.log, newEpoch(), formatStreamId(this.top)),
      ),
      this.options.commandTimeoutMs,
      'Redis',
    );
    const logTop = parseStreamId(top);
    if (this.epoch === '') {
      this.epoch = epoch;
      this.top = logTop;
      return true;
    }
    if (epoch !== this.epoch) {
      // Every entry of the new log was written after the loss: none has been read yet.
      this.epoch = epoch;
      this.lost(`The log was lost (new epoch ${epoch})`, START);
      return false;
    }
    const from = afterLoss(this.top, logTop, hole);
    if (from) this.lost('The log lost entries read from it', from);
    return !from;
  }

  /** Messages read from the log are no longer in it (a Redis failover, a restart losing writes). */
  private lost(why: string, position: StreamPosition): void {
    this.logger.warn(`${why}: subscribers are reset`);
    this.top = position;
    this.subject.next({ kind: 'reset', id: this.position(), position, reason: 'lost' });
  }

  private async read(): Promise<void> {
    let synced = true;
    while (!this.closed) {
      try {
        if (!synced) {
          // What it reads next follows what it read last only if the log lost nothing after it.
          if (!(await this.sync()) || !(await this.logHoldsAfterTop())) {
            this.recent.restart(this.epoch, this.top);
          }
          synced = true;
        }
        const reply = (await withDeadline(
          this.readerCommands.track(
            this.reader.xread(
              'COUNT',
              1000,
              'BLOCK',
              this.options.blockMs,
              'STREAMS',
              this.keys.log,
              formatStreamId(this.top),
            ),
          ),
          this.options.blockMs + this.options.commandTimeoutMs,
          'XREAD',
        )) as [string, LogEntry[]][] | null;
        this.setReading(true);
        if (reply) synced = this.deliver(reply[0][1]);
      } catch (err) {
        if (this.closed) return;
        this.setReading(false, (err as Error).message);
        synced = false;
        // A reader that stopped answering may sit on a dead socket: start a new one.
        if (err instanceof DeadlineExceeded) this.reader.disconnect(true);
        await delay(100);
      }
    }
  }

  private logHoldsAfterTop(): Promise<boolean> {
    return withDeadline(
      this.readerCommands.track(holdsEverythingAfter(this.reader, this.keys.log, this.top)),
      this.options.commandTimeoutMs,
      'Redis',
    );
  }

  /** Emits the entries in order; false when one is from another epoch (the log was replaced). */
  private deliver(entries: LogEntry[]): boolean {
    for (const entry of entries) {
      if (entry[1][1] !== this.epoch) return false;
      const message = this.toMessage(entry, this.epoch);
      this.top = message.position;
      this.recent.add(message);
      this.subject.next(message);
    }
    return true;
  }

  private toMessage([id, fields]: LogEntry, epoch: string): BusMessage {
    // Fields are written in a fixed order by the publish script: e, to, ev, d, tp (entries
    // written before topics existed end at d).
    const position = parseStreamId(id);
    return {
      kind: 'message',
      id: formatCursor(epoch, position),
      position,
      to: fields[3] === '' ? null : fields[3].split('\n'),
      topics: fields[9] ? fields[9].split('\n') : null,
      event: fields[5] === '' ? undefined : fields[5],
      data: fields[7],
    };
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

  /** Counts every time `client` is connected again, after its first connection. */
  private countReconnects(client: Redis): void {
    let connected = false;
    client.on('ready', () => {
      if (connected) this.options.metrics.redisReconnects++;
      connected = true;
    });
  }

  private setReading(reading: boolean, problem?: string): void {
    if (reading === this.reading) return;
    this.reading = reading;
    this.problem = problem;
    if (reading) this.logger.log('Reading the log from Redis');
    else if (!this.closed) this.logger.error(`Not reading the log from Redis: ${problem}`);
  }
}
