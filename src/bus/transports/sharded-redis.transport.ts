import { Logger } from '@nestjs/common';
import { BusUnavailableError } from '../../errors/bus-unavailable.error.js';
import { TooManyTopicsError } from '../../errors/too-many-topics.error.js';
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
import {
  BROADCAST_CHANNEL,
  CLIENT_CHANNEL,
  byShard,
  channelsFor,
  channelsOf,
  clientChannel,
  shardOf,
  topicChannel,
} from '../channels.js';
import { type LogPosition, comparePositions, parseEntryId } from '../log-position.js';
import { type HeldChange, MembershipProjection } from '../membership-projection.js';
import { joinsAhead, membershipOnShards, rejoinsAt } from '../sharded-membership.js';
import type { StreamLease } from '../stream-lease.js';
import {
  type BoundedTopicChange,
  type CursorMembership,
  type Membership,
  NO_MEMBERSHIP,
  type ShardMarker,
  TOPICS_EVENT,
  joinedPastLimit,
  startingTopics,
  topicChangeOf,
} from '../topic-change.js';
import { type ShardedLog, VectorLease } from '../vector-lease.js';
import {
  type ShardPositions,
  epochsDigest,
  formatVectorId,
  beforeAll,
  parseVectorId,
  startOn,
} from '../vector-id.js';
import { RedisLog } from './redis-log.js';
import { LOG_SCRIPTS, type LogScripts } from './redis-log.scripts.js';
import { mergeHistories } from './merged-history.js';
import type { RedisBusOptions } from './redis.transport.js';
import { JoinedHistory } from './joined-history.js';
import {
  ClientChangeLock,
  LOCK_SCRIPTS,
  type LockScripts,
  changeLockKey,
} from './client-change-lock.js';
import { type ShardHost, ShardReader } from './shard-reader.js';

export interface ShardedRedisTransportOptions extends RedisBusOptions {
  /** Shards of the log: every instance of the bus must have the same number. */
  readonly shards: number;
  /** Replicas that must have a message before `publish()` resolves (`WAIT`); 0: none. */
  readonly waitReplicas: number;
  /** How often each shard's subscription is pinged. */
  readonly pingMs: number;
}

type ScriptedCluster = RedisClient &
  LogScripts &
  LockScripts & { call(...args: string[]): Promise<unknown> };

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
  private readonly locks: ClientChangeLock;
  private readonly logs: RedisLog[] = [];
  private readonly readers: ShardReader[] = [];
  /** Stands for the epochs of every shard: a cursor with another is from another life of the log. */
  digest = '';
  override readonly joins: JoinedHistory;
  /** The memberships of the clients with a stream here (see `lease`). */
  private readonly memberships = new MembershipProjection();
  /** Clients whose last stream here ended since their memberships were last kept. */
  private readonly ended = new Set<string>();

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
    this.client = openRedis(url, 'cluster', this.logger, {
      ...LOG_SCRIPTS,
      ...LOCK_SCRIPTS,
    }) as ScriptedCluster;
    this.commands = new RedisWatchdog(this.client, commandTimeoutMs);
    this.locks = new ClientChangeLock(this.client, this.commands, PASSING, {
      count: waitReplicas,
      commandTimeoutMs,
    });
    onReconnect(this.client, () => counters.redisReconnects++);
    const host: ShardHost = {
      client: this.client,
      commandTimeoutMs,
      pingMs: options.pingMs,
      logger: this.logger,
      counters,
      emit: (event) => {
        // The changes of the clients with streams here: what their next streams start with.
        if (event.kind === 'message' && topicChangeOf(event)) this.memberships.apply(event);
        this.read$.next(event);
      },
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
    this.joins = new JoinedHistory(this.logs);
  }

  position(audience?: Audience): string {
    const shards = audience ? this.shardsOf(channelsFor(audience)).keys() : this.logs.keys();
    return formatVectorId(
      this.digest,
      new Map([...shards].sort().map((shard) => [shard, this.logs[shard].top])),
    );
  }

  /**
   * Listens on the stream's own channels and its starting topics', which its client's membership
   * decides: known here while a stream of the client is, else read once from the client's shard
   * once its channel is heard (changes from then on are read with it).
   */
  lease(audience: Audience, lastEventId: string | undefined): StreamLease {
    const { clientId } = audience;
    const given = parseVectorId(lastEventId);
    const positions = new Map<number, LogPosition>();
    // Where it stood on every shard its id names, listened to or not now: a topic it had at its
    // cursor and has left since still comes in the replay, and its ids must say how far.
    for (const [shard, position] of given?.positions ?? []) {
      if (shard < this.options.shards) positions.set(shard, position);
    }
    // A cursor, or changes, on a shard this log does not have is from another configuration.
    const { catchUp: cursor, changes } = given ?? {};
    const named = cursor && [cursor, ...(changes ?? [])].every(({ shard }) => positions.has(shard));
    const resumes = named ? { cursor, changes } : undefined;
    const lease = new VectorLease(this, positions, [], undefined, given && lastEventId, resumes);
    // A shard the id does not name: its start goes no further than this instance read (an id
    // ahead of a shard's log could not resume).
    const startOf = (shard: number) => {
      const top = this.logs[shard].top;
      const start = given && startOn(given.positions, shard);
      return start && comparePositions(start, top) < 0 ? start : top;
    };
    const own = clientChannel(clientId);
    const known = this.readers[this.shardOf(own)].wants(own) && this.memberships.has(clientId);
    const listening = lease.listen(channelsFor(audience), startOf);
    const start = () => {
      // A new stream starts where its channels are heard from.
      if (!given) this.startAtTop(clientId, positions);
    };
    if (known && !listening) {
      const topics = this.listenToStartingTopics(lease, audience, startOf);
      if (topics) lease.ready = topics.then(start);
      else start();
      return lease;
    }
    lease.ready = (async () => {
      await listening;
      if (!known) {
        this.memberships.learn(clientId, await this.logOf(clientId).membershipOf(clientId));
      }
      await this.listenToStartingTopics(lease, audience, startOf);
      start();
    })();
    return lease;
  }

  shardOf(channel: string): number {
    return shardOf(channel, this.options.shards);
  }

  want(channels: readonly string[]): Promise<void> | undefined {
    const waits = [...this.shardsOf(channels)].map(([shard, each]) =>
      this.readers[shard].want(each),
    );
    return waits.some((wait) => wait !== undefined) ? Promise.all(waits).then(() => {}) : undefined;
  }

  release(channels: readonly string[]): void {
    for (const [shard, each] of this.shardsOf(channels)) this.readers[shard].release(each);
    // Its changes are no longer read here: what a later stream starts with is read again.
    const own = channels.find((channel) => channel.startsWith(CLIENT_CHANNEL));
    if (own && !this.readers[this.shardOf(own)].wants(own)) {
      this.memberships.forget(own.slice(CLIENT_CHANNEL.length));
    }
  }

  async *replay(lastEventId: string, audience: Audience): AsyncIterable<readonly BusMessage[]> {
    const from = parseVectorId(lastEventId);
    if (!from) throw new HistoryGap('malformed');
    if (from.digest !== this.digest) throw new HistoryGap('epoch');
    const shards = [...this.shardsOf(channelsFor(audience)).keys()].sort();
    const own = this.shardOf(clientChannel(audience.clientId));
    const ahead = joinsAhead(
      await this.changesSince(audience.clientId, from.positions),
      startOn(from.positions, own),
      (shard) => startOn(from.positions, shard),
    );
    // A topic joined again while its leave's marker was ahead was on until that marker: its
    // rejoin, which the stream has from its cursor, stops its messages from there.
    audience.rejoins?.forEach((_, topic) => ahead.delete(topic));
    // Interleaved by entry time, as the stream would have seen them live: not shard after shard.
    for await (const page of mergeHistories(
      shards.map((shard) => this.shardHistory(from.positions, shard)),
    )) {
      yield ahead.size === 0
        ? page
        : page.filter((message) => !beforeJoin(message, audience, ahead));
    }
  }

  async publish(message: OutgoingMessage, timeoutMs: number): Promise<string> {
    if (message.topicChange) return this.changeTopics(message, message.topicChange, timeoutMs);
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

  membership(clientId: string): Membership {
    return this.memberships.now(clientId);
  }

  /**
   * As of the id's position on the client's shard (from the projection, else from the client's
   * first change after it in its shard's log): that, in client order, and with the leaves whose
   * markers on other shards the stream had or had not passed (see `membershipOnShards`), and the
   * rejoins it had (see `rejoinsAt`).
   */
  async membershipAt(clientId: string, lastEventId: string): Promise<CursorMembership> {
    const at = parseVectorId(lastEventId);
    if (!at || at.digest !== this.digest) return this.membership(clientId);
    const shard = this.shardOf(clientChannel(clientId));
    const clientAt = startOn(at.positions, shard);
    const changes = await this.changesSince(clientId, at.positions);
    const next = changes.find((held) => comparePositions(held.position, clientAt) > 0);
    const atClient =
      this.memberships.at(clientId, clientAt) ?? next?.change.before ?? this.membership(clientId);
    const stood = (each: number) => startOn(at.positions, each);
    return {
      ...membershipOnShards(atClient, changes, clientAt, stood),
      inClientOrder: atClient,
      rejoins: rejoinsAt(changes, clientAt, stood),
    };
  }

  /**
   * `clientId`'s changes since before the earliest of `positions` (a change whose marker a stream
   * had not passed is later than where it stood on the marker's shard): from the projection, else
   * from the client's shard's log. Empty when the log cannot give them (the stream is reset).
   */
  private async changesSince(
    clientId: string,
    positions: ShardPositions,
  ): Promise<readonly HeldChange[]> {
    const from = beforeAll(positions);
    const held = this.memberships.changesAfter(clientId, from);
    if (held) return held;
    const changes: HeldChange[] = [];
    try {
      for await (const page of this.logOf(clientId).history(from)) {
        for (const message of page) {
          const change = message.to?.[0] === clientId ? topicChangeOf(message) : undefined;
          if (change) changes.push({ position: message.position, change });
        }
      }
    } catch (err) {
      if (!(err instanceof HistoryGap)) throw err;
    }
    return changes;
  }

  keepMembership(clientId: string): void {
    this.ended.add(clientId);
  }

  async keepMemberships(clientIds: Iterable<string>): Promise<void> {
    const kept = new Set(this.ended);
    this.ended.clear();
    for (const clientId of clientIds) {
      const { joined, left } = this.memberships.now(clientId);
      if (joined.length + left.length > 0) kept.add(clientId);
    }
    const byLog = new Map<RedisLog, string[]>();
    for (const clientId of kept) {
      const log = this.logOf(clientId);
      byLog.set(log, [...(byLog.get(log) ?? []), clientId]);
    }
    await Promise.all([...byLog].map(([log, each]) => log.keepMemberships(each)));
  }

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

  /**
   * Writes a change of a client's topics under its client's lock (see `ClientChangeLock`): first
   * a marker on the shard of each of its topics that is not on the client's, on those topics'
   * channels, then the change on the client's shard, with where each marker is, which lets the
   * lock go. Resolves to an id that names all of them. All within `timeoutMs`, waiting for the
   * lock included.
   */
  private async changeTopics(
    message: OutgoingMessage,
    change: BoundedTopicChange,
    timeoutMs: number,
  ): Promise<string> {
    const clientId = message.to![0];
    const own = this.shardOf(clientChannel(clientId));
    const deadline = Date.now() + timeoutMs;
    const key = changeLockKey(this.logs[own].options.hashTag, clientId);
    return this.locks.hold(key, deadline, (lock) =>
      this.changeTopicsLocked(message, change, clientId, own, deadline, lock),
    );
  }

  private async changeTopicsLocked(
    message: OutgoingMessage,
    change: BoundedTopicChange,
    clientId: string,
    own: number,
    deadline: number,
    lock: string,
  ): Promise<string> {
    const left = () => Math.max(1, deadline - Date.now());
    const far = [...byShard([...change.join, ...change.leave], this.options.shards, topicChannel)];
    if (far.some(([shard]) => shard !== own) && change.join.length > 0) {
      // The script refuses a change past the limit, but its markers would be written by then:
      // checked first, exactly, as no other change of the client is written meanwhile.
      const known = await this.logOf(clientId).membershipOf(clientId);
      const over = joinedPastLimit(known?.membership ?? NO_MEMBERSHIP, change);
      if (over !== undefined) throw new TooManyTopicsError(over, change.maxJoined);
    }
    const markers = await Promise.all(
      far
        .filter(([shard]) => shard !== own)
        .map(async ([shard, topics]): Promise<ShardMarker> => {
          const marker: OutgoingMessage = {
            to: [clientId],
            topics,
            event: TOPICS_EVENT,
            data: JSON.stringify({
              join: change.join.filter((topic) => topics.includes(topic)),
              leave: change.leave.filter((topic) => topics.includes(topic)),
            }),
          };
          const { entryId } = await this.logs[shard].append(
            { message: marker, channels: channelsOf(marker), spread: '' },
            left(),
          );
          return { shard, id: entryId, topics };
        }),
    );
    const data = JSON.stringify(markers.length > 0 ? { ...change, markers } : change);
    const { entryId } = await this.logs[own].append(
      { message: { ...message, data }, channels: [clientChannel(clientId)], spread: '', lock },
      left(),
    );
    const written = new Map([
      [own, parseEntryId(entryId)],
      ...markers.map(({ shard, id }) => [shard, parseEntryId(id)] as const),
    ]);
    return formatVectorId(this.digest, new Map([...written].sort(([x], [y]) => x - y)));
  }

  /**
   * Listens on the topics the stream starts with too (`listened` so far), and on none its client
   * left: again when a change is read while they are subscribed, so that what the stream starts
   * with is what it listens on.
   */
  private listenToStartingTopics(
    lease: VectorLease,
    audience: Audience,
    startOf: (shard: number) => LogPosition,
    listened = audience.topics,
  ): Promise<void> | undefined {
    const membership = this.memberships.now(audience.clientId);
    const topics = startingTopics(audience.topics, membership);
    lease.leave([...(listened ?? [])].filter((topic) => !topics?.has(topic)));
    return lease
      .listen([...(topics ?? [])].map(topicChannel), startOf)
      ?.then(() =>
        this.memberships.now(audience.clientId) === membership
          ? undefined
          : this.listenToStartingTopics(lease, audience, startOf, topics),
      );
  }

  /**
   * A new stream's place: where each of its shards is heard from, and no earlier than its
   * client's last change and the markers of it, which its starting topics are as of.
   */
  private startAtTop(clientId: string, positions: Map<number, LogPosition>): void {
    const { last, marks } = this.memberships.marksOf(clientId);
    const own = this.shardOf(clientChannel(clientId));
    for (const shard of positions.keys()) {
      const floor = shard === own ? last : marks.get(shard);
      const top = this.readers[shard].newStreamStart;
      positions.set(shard, floor && comparePositions(floor, top) > 0 ? floor : top);
    }
  }

  /** The log of the shard `clientId`'s channel is on: where its changes and membership are. */
  private logOf(clientId: string): RedisLog {
    return this.logs[this.shardOf(clientChannel(clientId))];
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

/**
 * Whether `message` is on topics the stream is on only through joins whose markers are after it
 * (see `joinsAhead`): not for the stream.
 */
function beforeJoin(
  message: BusMessage,
  { topics }: Audience,
  ahead: ReadonlyMap<string, { readonly shard: number; readonly from: LogPosition }>,
): boolean {
  if (message.to !== null || message.topics === null) return false;
  return message.topics.every((topic) => {
    const join = ahead.get(topic);
    if (!topics?.has(topic)) return true;
    return (
      !!join && join.shard === message.shard && comparePositions(message.position, join.from) <= 0
    );
  });
}
