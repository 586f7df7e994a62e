import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { BusUnavailableError } from '../../errors/bus-unavailable.error.js';
import { IdempotencyKeyReusedError } from '../../errors/idempotency-key-reused.error.js';
import { TooManyTopicsError } from '../../errors/too-many-topics.error.js';
import { appendUntil } from '../../redis/append-until.js';
import { DeadlineExceeded } from '../../redis/deadline.js';
import type { RedisWatchdog } from '../../redis/redis-watchdog.js';
import { type Waitable, withReplicas } from '../../redis/with-replicas.js';
import type { BusMessage, BusReset, ResetReason } from '../bus-event.js';
import type { OutgoingMessage } from '../bus-transport.js';
import { HISTORY_PAGE_SIZE } from '../bus-transport.js';
import { formatEventId, newEpoch } from '../event-id.js';
import type { IdempotencyLimits } from '../idempotency.js';
import {
  type LogPosition,
  START,
  comparePositions,
  formatEntryId,
  parseEntryId,
} from '../log-position.js';
import { contentBytes } from '../message-size.js';
import type { KnownMembership } from '../membership-projection.js';
import type { Membership } from '../topic-change.js';
import { formatVectorId } from '../vector-id.js';
import { type LogPage, logHistory } from './log-history.js';
import { PublishBatch } from './publish-batch.js';
import {
  FIELD_SEPARATOR,
  KEY_REUSED,
  LOCK_LOST,
  type LogEntry,
  TOO_MANY_TOPICS,
  type LogScripts,
} from './redis-log.scripts.js';
import { SharedReads } from './shared-reads.js';

/** A connection (or a Cluster client) with `LOG_SCRIPTS` defined, and its watchdog. */
export interface LogLink {
  readonly redis: (Redis | Cluster) & LogScripts;
  readonly commands: RedisWatchdog;
}

/** One message on its way to a log. */
export interface LogWrite {
  readonly message: OutgoingMessage;
  /** The channels it is published on as well (a sharded log's); none on a log with one order. */
  readonly channels: readonly string[];
  /** How many shards the log has, when the message goes to more than one of them; else ''. */
  readonly spread: string;
  /** A change of its client's topics on a sharded log: the token of its lock (`ClientChangeLock`). */
  readonly lock?: string;
}

/** Where an appended message is: its log's epoch and its entry id. */
export interface Appended {
  readonly epoch: string;
  readonly entryId: string;
}

export interface RedisLogOptions {
  /** What the log is written, and its history read, through. */
  readonly writer: LogLink;
  /** What its epoch and continuity are read through, when not the writer. */
  readonly reader?: LogLink;
  /** `{<prefix>}`, or `{<prefix>:<shard>}` for a shard: its keys and channels start with it. */
  readonly hashTag: string;
  /** Entries kept for resume (`MAXLEN ~`). */
  readonly maxLength: number;
  /** Idempotency keys it remembers: for how long, and how many. */
  readonly idempotency: IdempotencyLimits;
  /** How long a client's membership is kept after its last change or its last stream. */
  readonly membershipTtlMs: number;
  /** The shard it is, on a sharded log: its messages say so, and carry vector ids. */
  readonly shard?: number;
  /** Replicas that must have an append before it counts (`WAIT`); 0: none. */
  readonly waitReplicas: number;
  readonly commandTimeoutMs: number;
  /** Refusals that mean "not now" (a cluster in motion): the append is tried again. */
  readonly passing?: RegExp;
  /** Resolves once the writer can take commands, or rejects after `ms`. */
  whenWritable?(ms: number): Promise<void>;
}

/**
 * Messages per script call, and bytes of them. A turn's publishes go in calls of 32 rather than
 * one: Redis runs the first while the process still writes the next, and the process reads one
 * call's replies while Redis runs the next. In one call, each waited for the other, and
 * `publishMany()` reached 0.6x of pipelined `XADD`s against 0.9x to 1.1x in calls of 16 to 64
 * (same runs). No call holds Redis up for long.
 */
const BATCH_LIMITS = {
  maxItems: 32,
  maxBytes: 1024 * 1024,
  bytesOf: (write: LogWrite) => contentBytes(write.message),
};

/**
 * One log of the bus in Redis, a stream beside a meta hash (see `redis-log.scripts.ts`): the
 * log of a single Redis, or one shard of a Redis Cluster's. Appends of one turn of the event loop
 * go in script calls of up to 32 messages, each under one receipt, so a batch retried after a
 * lost reply lands once. It knows the log's epoch and the last entry given out of it (`top`),
 * tells when the log lost what was given out, reads its history a page at a time (reads of the
 * same page at once are shared), and decodes its entries.
 */
export class RedisLog {
  /** The epoch of the log as last read; '' until then. */
  epoch = '';
  /** The last entry given out: where reading goes on from. */
  top: LogPosition = START;
  readonly keys: {
    readonly meta: string;
    readonly log: string;
    readonly receipts: string;
    /** The idempotency keys' index; `<seen>:<key>` each key. */
    readonly seen: string;
    /** The clients' memberships, and when each was last used (see `PUBLISH_SCRIPT`). */
    readonly members: string;
    readonly membersUsed: string;
  };
  private readonly pages = new SharedReads<LogPage>();
  private readonly batch = new PublishBatch<LogWrite, Appended>(
    (writes, until) => this.appendBatch(writes, until),
    BATCH_LIMITS,
  );

  constructor(readonly options: RedisLogOptions) {
    const { hashTag } = options;
    this.keys = {
      meta: `${hashTag}:meta`,
      log: `${hashTag}:log`,
      receipts: `${hashTag}:receipt:`,
      seen: `${hashTag}:idem`,
      members: `${hashTag}:members`,
      membersUsed: `${hashTag}:members:used`,
    };
  }

  /**
   * Appends `write` with the others of this turn; rejects with `BusUnavailableError` when the log
   * has not taken it within `timeoutMs`. With an idempotency key the log has seen, resolves to
   * where the first one is (or rejects with `IdempotencyKeyReusedError`) and appends nothing; a
   * change of a client's topics past its limit rejects with `TooManyTopicsError`, and one whose
   * lock was no longer its own with `BusUnavailableError`.
   */
  append(write: LogWrite, timeoutMs: number): Promise<Appended> {
    // Handlers rather than an async function: a publish waits on enough promises as it is.
    return this.batch.add(write, Date.now() + timeoutMs).then(
      (appended) => accepted(appended, write, timeoutMs),
      (err: unknown) => {
        throw unpublished(err, timeoutMs);
      },
    );
  }

  /**
   * `append` of each of `writes`, added together: one promise for all, resolving to each one's
   * outcome in their order.
   */
  appendAll(
    writes: readonly LogWrite[],
    timeoutMs: number,
  ): Promise<PromiseSettledResult<Appended>[]> {
    return this.batch.addAll(writes, Date.now() + timeoutMs).then((outcomes) =>
      outcomes.map((outcome, i): PromiseSettledResult<Appended> => {
        if (outcome.status === 'rejected') {
          return { status: 'rejected', reason: unpublished(outcome.reason, timeoutMs) };
        }
        try {
          return { status: 'fulfilled', value: accepted(outcome.value, writes[i], timeoutMs) };
        } catch (reason) {
          return { status: 'rejected', reason };
        }
      }),
    );
  }

  /**
   * Reads the epoch and the end of the log (starting a new epoch if it has none or lost its
   * log), and whether it still holds the last entry given out, with the memberships as they
   * stand at the end. The first read takes them as they are, and so does a `fresh` one (reading
   * starts over at the end: nothing read before is owed to anyone). After that, `lostFrom` says
   * whether the log lost what was given out, and where reading goes on from, to which `top`
   * moves: the start of a new epoch's log; the end of a log that ends before what was given out;
   * or, when it was written to since, the place of what it lost. Reading on from before the end
   * applies changes the memberships already hold again, which leaves them as they are: each
   * change carries the membership before it.
   */
  async sync(fresh = false): Promise<{
    readonly end: LogPosition;
    readonly lostFrom?: LogPosition;
    readonly memberships: [string, Membership, LogPosition][];
  }> {
    const { redis, commands } = this.options.reader ?? this.options.writer;
    const { meta, log, members } = this.keys;
    const [epoch, top, hole, stored] = await commands.ask(
      redis.sseBusSync(meta, log, members, newEpoch(), formatEntryId(this.top)),
      this.options.commandTimeoutMs,
    );
    const end = parseEntryId(top);
    const memberships = parseMemberships(stored);
    const first = fresh || this.epoch === '';
    const renewed = this.epoch !== epoch;
    this.epoch = epoch;
    if (first) {
      this.top = end;
      return { end, memberships };
    }
    let lostFrom: LogPosition | undefined;
    // Every entry of a new epoch's log was written after the loss: none has been read yet.
    if (renewed) lostFrom = this.top = START;
    else if (comparePositions(end, this.top) < 0) lostFrom = this.top = end;
    else if (hole === 1) lostFrom = this.top;
    return { end, memberships, lostFrom };
  }

  /** Where the log ends now: its last entry (`START` when it has none). One command. */
  async end(): Promise<LogPosition> {
    const { redis, commands } = this.options.reader ?? this.options.writer;
    const top = await commands.ask(
      redis.hget(this.keys.meta, 'top'),
      this.options.commandTimeoutMs,
    );
    return top === null ? START : parseEntryId(top);
  }

  /**
   * Whether the log holds every entry after `top`. Trimming only ever cuts the oldest entries,
   * and nothing else deletes any: it does as long as its oldest entry is at or before `top`. An
   * empty log may have lost some: no.
   */
  async holdsEverythingAfterTop(): Promise<boolean> {
    const { redis, commands } = this.options.reader ?? this.options.writer;
    const [oldest] = (await commands.ask(
      redis.xrange(this.keys.log, '-', '+', 'COUNT', 1),
      this.options.commandTimeoutMs,
    )) as LogEntry[];
    return oldest !== undefined && comparePositions(parseEntryId(oldest[0]), this.top) <= 0;
  }

  /**
   * The messages after `after` in the log of `epoch`, a page at a time: from `recent` where it
   * holds them, else from Redis, one read for all who ask for the same page at once (a reconnect
   * storm). Throws `HistoryGap` when it cannot give all of them.
   */
  history(
    after: LogPosition,
    epoch = this.epoch,
    recent?: (after: LogPosition) => readonly BusMessage[] | undefined,
  ): AsyncIterable<readonly BusMessage[]> {
    const { redis, commands } = this.options.writer;
    const read = (afterId: string) =>
      this.pages.read(`${epoch}.${afterId}`, async (): Promise<LogPage> => {
        const { meta, log } = this.keys;
        const reply = await commands.ask(
          redis.sseBusHistory(meta, log, epoch, afterId, String(HISTORY_PAGE_SIZE)),
          this.options.commandTimeoutMs,
        );
        if (reply[0] === 'gap') return { gap: reply[1] };
        const [, top, since, entries] = reply;
        return { top, since, messages: entries.map((entry) => this.decode(entry, epoch)) };
      });
    return logHistory(after, read, recent);
  }

  /**
   * `clientId`'s membership as the log keeps it, with its last change's position and the latest
   * marker's on each shard; undefined when it has none. One command.
   */
  async membershipOf(clientId: string): Promise<KnownMembership | undefined> {
    const { redis, commands } = this.options.writer;
    const stored = await commands.ask(
      redis.hget(this.keys.members, clientId),
      this.options.commandTimeoutMs,
    );
    if (stored === null) return undefined;
    const { id, joined, left, marks = {} } = JSON.parse(stored) as StoredMembership;
    return {
      membership: { joined, left },
      position: parseEntryId(id),
      marks: new Map(Object.entries(marks).map(([shard, at]) => [Number(shard), parseEntryId(at)])),
    };
  }

  /**
   * Marks the memberships of `clientIds` (those that have one) as used now; one call per
   * thousand.
   */
  async keepMemberships(clientIds: readonly string[]): Promise<void> {
    const { redis, commands } = this.options.writer;
    for (let from = 0; from < clientIds.length; from += 1000) {
      const some = clientIds.slice(from, from + 1000);
      await commands.ask(redis.sseBusKeepMemberships(this.keys.membersUsed, ...some));
    }
  }

  /**
   * Drops the entries from before `ms`: `XTRIM MINID`, exact rather than `~`, as a cursor just
   * after the cut must still replay.
   */
  async trimBefore(ms: number): Promise<void> {
    const { redis, commands } = this.options.writer;
    await commands.ask(redis.sseBusTrimBefore(this.keys.meta, this.keys.log, String(ms)));
  }

  /** The reset of the streams reading this log, which go on from `position`. */
  reset(reason: ResetReason, position: LogPosition): BusReset {
    return { kind: 'reset', id: this.idOf(position), position, reason, shard: this.options.shard };
  }

  /** An entry of the log as a message of `epoch` (see `PUBLISH_SCRIPT`). */
  decode([id, fields]: LogEntry, epoch = this.epoch): BusMessage {
    return this.message(id, epoch, fieldsOf(fields) ?? {});
  }

  /**
   * An entry the reader read, as a message of the log's epoch; undefined when it is of another
   * (the log was replaced).
   */
  decodeRead([id, fields]: LogEntry): BusMessage | undefined {
    const read = fieldsOf(fields);
    return read?.e === this.epoch ? this.message(id, this.epoch, read) : undefined;
  }

  /**
   * A message as `SPUBLISH` sent it: its entry's id, \x1f and its `m`; undefined when it is not
   * one. `epoch` says which life of the log it is of.
   */
  decodePublished(text: string): { epoch: string; message: BusMessage } | undefined {
    const at = text.indexOf(FIELD_SEPARATOR);
    const fields = at < 0 ? undefined : unpacked(text.slice(at + 1));
    if (!fields) return undefined;
    return { epoch: fields.e, message: this.message(text.slice(0, at), fields.e, fields) };
  }

  /** A message from the fields the publish script writes: to, tp, ev, d and sp. */
  private message(id: string, epoch: string, fields: Fields): BusMessage {
    const { to, tp, ev, d = '', sp } = fields;
    const position = parseEntryId(id);
    return {
      kind: 'message',
      id: this.idOf(position, epoch),
      position,
      to: to ? to.split('\n') : null,
      topics: tp ? tp.split('\n') : null,
      event: ev || undefined,
      data: d,
      shard: this.options.shard,
      spread: sp ? Number(sp) : undefined,
    };
  }

  /** A position's id: `<epoch>.<ms>-<seq>`, or its shard's place in a vector id. */
  private idOf(position: LogPosition, epoch = this.epoch): string {
    const { shard } = this.options;
    return shard === undefined
      ? formatEventId(epoch, position)
      : formatVectorId('0', new Map([[shard, position]]));
  }

  /**
   * Appends a batch with one script call (then `WAIT`, when replicas must have it), tried again
   * until `deadline`, the last of its messages'. The receipt makes a retry of a batch that did
   * land return its first ids.
   */
  private async appendBatch(writes: readonly LogWrite[], deadline: number): Promise<Appended[]> {
    const { writer, hashTag, maxLength, idempotency, passing, whenWritable } = this.options;
    const receipt = this.keys.receipts + randomUUID();
    const args = [
      newEpoch(),
      String(maxLength),
      // Long enough to outlive every retry of this batch.
      String(deadline - Date.now() + 10_000),
      hashTag,
      String(idempotency.windowMs),
      String(idempotency.maxKeys),
      String(this.options.membershipTtlMs),
    ];
    for (const { message, channels, spread, lock } of writes) {
      args.push(
        [
          message.to === null ? '' : message.to.join('\n'),
          message.event ?? '',
          message.data,
          message.topics === null ? '' : message.topics.join('\n'),
          spread,
          channels.join('\n'),
          message.idempotency?.key ?? '',
          message.idempotency?.fingerprint ?? '',
          message.topicChange ? changeField(message.topicChange.maxJoined, lock) : '',
        ].join(FIELD_SEPARATOR),
      );
    }
    const reply = await appendUntil(
      deadline,
      async (left) => {
        await whenWritable?.(left);
        return writer.commands.ask(this.send(receipt, args), deadline - Date.now());
      },
      passing,
    );
    const [epoch, ...ids] = reply.split(' ');
    return ids.map((entryId) => ({ epoch, entryId }));
  }

  /** The script; with replicas to wait for, then `WAIT` on the same connection. */
  private send(receipt: string, args: string[]): Promise<string> {
    const { writer, waitReplicas, commandTimeoutMs } = this.options;
    const { meta, log, seen } = this.keys;
    if (waitReplicas === 0) return writer.redis.sseBusPublish(meta, log, receipt, seen, ...args);
    const pipeline = writer.redis.pipeline() as unknown as {
      sseBusPublish(...keysAndArgs: string[]): Waitable;
    };
    // Retried, the receipt returns the same ids, and WAIT asks again.
    return withReplicas(
      pipeline.sseBusPublish(meta, log, receipt, seen, ...args),
      waitReplicas,
      commandTimeoutMs,
    );
  }
}

/** Why a message was not appended: past its time, `BusUnavailableError`. */
function unpublished(err: unknown, timeoutMs: number): unknown {
  if (!(err instanceof DeadlineExceeded)) return err;
  return new BusUnavailableError(`Message not published within ${timeoutMs} ms: ${err.message}`);
}

/** `appended`, unless the script refused it (see `RedisLog.append`). */
function accepted(appended: Appended, write: LogWrite, timeoutMs: number): Appended {
  const { entryId } = appended;
  if (entryId === KEY_REUSED) throw new IdempotencyKeyReusedError();
  if (entryId.startsWith(TOO_MANY_TOPICS)) {
    const joined = Number(entryId.slice(TOO_MANY_TOPICS.length));
    throw new TooManyTopicsError(joined, write.message.topicChange!.maxJoined);
  }
  if (entryId === LOCK_LOST) {
    throw new BusUnavailableError(`Change not written within ${timeoutMs} ms: its lock expired`);
  }
  return appended;
}

/** A change's field of the publish script: its limit, and its lock's token (see `PUBLISH_SCRIPT`). */
function changeField(maxJoined: number, lock: string | undefined): string {
  return lock ? `${maxJoined} ${lock}` : String(maxJoined);
}

/** A membership as the log's hash keeps it (`marks` on a sharded log's, see `PUBLISH_SCRIPT`). */
type StoredMembership = Membership & { id: string; marks?: Record<string, string> };

/** `HGETALL` of the memberships: client id, `{ id, joined, left }`, … */
function parseMemberships(stored: readonly string[]): [string, Membership, LogPosition][] {
  const memberships: [string, Membership, LogPosition][] = [];
  for (let i = 0; i < stored.length; i += 2) {
    const { id, joined, left } = JSON.parse(stored[i + 1]) as StoredMembership;
    memberships.push([stored[i], { joined, left }, parseEntryId(id)]);
  }
  return memberships;
}

type Fields = Readonly<Record<string, string | undefined>>;

/**
 * An entry's fields by name: of its `m` as the publish script writes it, or, written by an
 * earlier version, one field each (a log from before an upgrade reads on); undefined when `m` is
 * not one.
 */
function fieldsOf(fields: readonly string[]): Fields | undefined {
  return fields[0] === 'm' ? unpacked(fields[1]) : named(fields);
}

/** `<epoch> <spread> <to> <topics> <event> <data>`, separated by \x1f, by name. */
function unpacked(packed: string): (Fields & { e: string }) | undefined {
  const fields = packed.split(FIELD_SEPARATOR);
  if (fields.length !== 6) return undefined;
  const [e, sp, to, tp, ev, d] = fields;
  return { e, sp, to, tp, ev, d };
}

/** An entry's fields, `[name, value, name, value, …]`, by name. */
function named(fields: readonly string[]): Fields {
  const byName: Record<string, string | undefined> = {};
  for (let i = 0; i < fields.length; i += 2) byName[fields[i]] = fields[i + 1];
  return byName;
}
