import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { Redis, type RedisOptions, ReplyError } from 'ioredis';
import { Subject } from 'rxjs';
import type { BusMetrics } from '../../metrics/bus-metrics.js';
import type { BusEvent, BusMessage } from '../bus-event.js';
import {
  type OutgoingMessage,
  BusTransport,
  HistoryGap,
  type TransportHealth,
} from '../bus-transport.js';
import {
  type Cursor,
  type StreamPosition,
  START,
  comparePositions,
  formatCursor,
  formatStreamId,
  newEpoch,
  parseStreamId,
} from '../cursor.js';
import { BusUnavailableError } from '../errors/bus-unavailable.error.js';
import { DeadlineExceeded, delay, withDeadline } from './deadline.js';
import { HISTORY_PAGE_SIZE } from './history-page-size.js';
import { HISTORY_SCRIPT, PUBLISH_SCRIPT, SYNC_SCRIPT } from './redis.scripts.js';

export interface RedisTransportOptions {
  readonly url: string;
  /** Prefix of the keys; each prefix is a separate bus. */
  readonly keyPrefix: string;
  /** Messages kept for resume (`MAXLEN ~`). */
  readonly maxLength: number;
  /** How long a command may take before the connection is treated as dead. */
  readonly commandTimeoutMs: number;
  /** How long one `XREAD` blocks: a reader that stays silent longer than this is wedged. */
  readonly blockMs: number;
  /** Where its reconnections are counted. */
  readonly metrics: BusMetrics;
}

type Entry = [id: string, fields: string[]];
type HistoryReply = ['gap', 'epoch' | 'lost'] | ['ok', string, string, number, Entry[]];

interface ScriptedRedis extends Redis {
  sseBusSync(meta: string, log: string, epoch: string): Promise<[string, string]>;
  sseBusPublish(meta: string, log: string, receipt: string, ...args: string[]): Promise<string>;
  sseBusHistory(meta: string, log: string, ...args: string[]): Promise<HistoryReply>;
}

/**
 * The bus on a Redis stream: `publish` is one `XADD` (in a script that keeps the epoch), and
 * each process runs one reader that tails the stream with `XREAD BLOCK` from the last id it
 * read. A reader that loses its connection picks up where it stopped; one that finds a new
 * epoch announces a reset and reads the new log from its start.
 */
export class RedisTransport extends BusTransport {
  private readonly logger = new Logger(RedisTransport.name);
  private readonly subject = new Subject<BusEvent>();
  readonly events$ = this.subject.asObservable();
  private readonly keys: { meta: string; log: string; receipts: string };
  /** Publishes and reads history: fails fast while disconnected instead of queueing. */
  private readonly writer: ScriptedRedis;
  /** Only ever blocked in `XREAD`. */
  private readonly reader: ScriptedRedis;
  private readonly writerCommands: InFlight;
  private readonly readerCommands: InFlight;
  private epoch = '';
  private top: StreamPosition = START;
  private reading = false;
  private problem: string | undefined;
  private closed = false;
  private loop: Promise<void> | undefined;
  private writerReady: Promise<void> | undefined;

  constructor(private readonly options: RedisTransportOptions) {
    super();
    const tag = `{${options.keyPrefix}}`;
    this.keys = { meta: `${tag}:meta`, log: `${tag}:log`, receipts: `${tag}:receipt:` };
    const common: RedisOptions = {
      protocol: 2,
      lazyConnect: true,
      // Reconnect quickly and keep trying: a restarted Redis should be picked up in well under
      // a second, and giving up would leave the instance deaf for good.
      retryStrategy: (times) => Math.min(50 * times, 1000),
      // A command in flight when the connection drops is failed (see `InFlight`), never silently
      // sent twice.
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: null,
    };
    this.writer = this.connect('writer', { ...common, enableOfflineQueue: false });
    this.reader = this.connect('reader', common);
    this.writerCommands = new InFlight(this.writer);
    this.readerCommands = new InFlight(this.reader);
    this.reader.on('close', () => this.setReading(false, 'connection to Redis lost'));
    this.countReconnects(this.writer);
    this.countReconnects(this.reader);
  }

  position(): string {
    return formatCursor(this.epoch, this.top);
  }

  async start(): Promise<void> {
    try {
      await Promise.all([this.writer.connect(), this.reader.connect()]);
      await this.sync();
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
    // A QUIT on a connection that stopped answering would never be answered either.
    await withDeadline(this.writer.quit(), this.options.commandTimeoutMs, 'QUIT').catch(() =>
      this.writer.disconnect(),
    );
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
    const deadline = Date.now() + timeoutMs;
    const receipt = this.keys.receipts + randomUUID();
    const args = [
      newEpoch(),
      String(this.options.maxLength),
      message.to === null ? '' : message.to.join('\n'),
      message.event ?? '',
      message.data,
      // Long enough to outlive every retry of this publish.
      String(timeoutMs + 10_000),
      message.topics === null ? '' : message.topics.join('\n'),
    ];
    for (;;) {
      const left = deadline - Date.now();
      try {
        if (left <= 0) throw new DeadlineExceeded(`Redis is unreachable`);
        await this.whenWriterReady(left);
        return await this.onWriter(
          this.writer.sseBusPublish(this.keys.meta, this.keys.log, receipt, ...args),
          deadline - Date.now(),
        );
      } catch (err) {
        if (err instanceof ReplyError) {
          throw new BusUnavailableError(`Redis refused the message: ${(err as Error).message}`);
        }
        if (err instanceof DeadlineExceeded) {
          throw new BusUnavailableError(
            `Message not published within ${timeoutMs} ms: ${err.message}`,
          );
        }
        // The connection broke, or stopped answering and is being replaced: try again once it
        // is back. The receipt makes a retry of a publish that did land return its first id.
        await delay(Math.min(20, Math.max(0, deadline - Date.now())));
      }
    }
  }

  async *history(cursor: Cursor): AsyncIterable<readonly BusMessage[]> {
    let after: StreamPosition = cursor;
    for (let first = true; ; first = false) {
      const reply = await this.onWriter(
        this.writer.sseBusHistory(
          this.keys.meta,
          this.keys.log,
          cursor.epoch,
          formatStreamId(after),
          String(HISTORY_PAGE_SIZE),
        ),
        this.options.commandTimeoutMs,
      ).catch((err: unknown) => {
        throw new BusUnavailableError(`History unavailable: ${(err as Error).message}`);
      });
      if (reply[0] === 'gap') throw new HistoryGap(reply[1]);
      const [, top, firstId, trimmed, entries] = reply;
      if (first && comparePositions(after, parseStreamId(top)) > 0) throw new HistoryGap('ahead');
      if (trimmed && comparePositions(after, parseStreamId(firstId)) < 0) {
        throw new HistoryGap('expired');
      }
      const page = entries.map((entry) => this.toMessage(entry, cursor.epoch));
      if (page.length > 0) {
        yield page;
        after = page[page.length - 1].position;
      }
      if (page.length < HISTORY_PAGE_SIZE) return;
    }
  }

  /**
   * Waits up to `ms` for a writer command. Whoever waits, one unanswered for `commandTimeoutMs`
   * means the connection is dead though nothing said so (a frozen Redis, a host gone without a
   * reset, which the OS may take many minutes to notice): the writer gets a new one, as the
   * reader does, and the commands in flight on the old one fail (see `InFlight`).
   */
  private onWriter<T>(command: Promise<T>, ms: number): Promise<T> {
    const answer = this.writerCommands.track(command);
    withDeadline(answer, this.options.commandTimeoutMs, 'Redis').catch((err: unknown) => {
      if (err instanceof DeadlineExceeded) this.writer.disconnect(true);
    });
    return withDeadline(answer, ms, 'Redis');
  }

  private connect(role: string, options: RedisOptions): ScriptedRedis {
    const client = new Redis(this.options.url, { ...options, connectionName: `sse-bus:${role}` });
    client.on('error', (err: Error) => this.logger.warn(`Redis ${role}: ${err.message}`));
    client.defineCommand('sseBusSync', { numberOfKeys: 2, lua: SYNC_SCRIPT });
    client.defineCommand('sseBusPublish', { numberOfKeys: 3, lua: PUBLISH_SCRIPT });
    client.defineCommand('sseBusHistory', { numberOfKeys: 2, lua: HISTORY_SCRIPT });
    return client as ScriptedRedis;
  }

  /** Finds the epoch and where to read from; a new epoch resets every subscriber. */
  private async sync(): Promise<void> {
    const [epoch, top] = await withDeadline(
      this.readerCommands.track(this.reader.sseBusSync(this.keys.meta, this.keys.log, newEpoch())),
      this.options.commandTimeoutMs,
      'Redis',
    );
    if (epoch === this.epoch) return;
    const firstSync = this.epoch === '';
    this.epoch = epoch;
    if (firstSync) {
      this.top = parseStreamId(top);
      return;
    }
    // Every entry of the new log was written after the loss: none has been read yet.
    this.logger.warn(`The log was lost (new epoch ${epoch}): subscribers are reset`);
    this.top = START;
    this.subject.next({ kind: 'reset', id: this.position(), position: START, reason: 'lost' });
  }

  private async read(): Promise<void> {
    let synced = true;
    while (!this.closed) {
      try {
        if (!synced) {
          await this.sync();
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
        )) as [string, Entry[]][] | null;
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

  /** Emits the entries in order; false when one is from another epoch (the log was replaced). */
  private deliver(entries: Entry[]): boolean {
    for (const entry of entries) {
      if (entry[1][1] !== this.epoch) return false;
      const message = this.toMessage(entry, this.epoch);
      this.top = message.position;
      this.subject.next(message);
    }
    return true;
  }

  private toMessage([id, fields]: Entry, epoch: string): BusMessage {
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

/**
 * The commands in flight on one connection, failed when it closes. ioredis 6.0.0 drops such a
 * command without ever settling it when it does not resend it (redis/ioredis#2193): a publish
 * would wait out its deadline instead of retrying once Redis is back, and the reader its
 * watchdog.
 */
class InFlight {
  private readonly failures = new Set<(err: Error) => void>();

  constructor(client: Redis) {
    client.on('close', () => {
      const lost = new Error('Connection to Redis lost');
      this.failures.forEach((fail) => fail(lost));
      this.failures.clear();
    });
  }

  /** Settles like `command`, or rejects if the connection closes first. */
  track<T>(command: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.failures.add(reject);
      command.then(resolve, reject).finally(() => this.failures.delete(reject));
    });
  }
}
