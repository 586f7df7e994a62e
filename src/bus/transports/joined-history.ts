import type { BusMessage } from '../bus-event.js';
import { HistoryGap } from '../bus-transport.js';
import { clientChannel, shardOf, topicChannel } from '../channels.js';
import type { CatchUpSource } from '../join-catch-up.js';
import { type LogPosition, comparePositions, parseEntryId } from '../log-position.js';
import type { StreamLease } from '../stream-lease.js';
import {
  type LoggedChange,
  type Member,
  type StreamTopics,
  startingTopics,
  topicChangeOf,
  topicMarkerOf,
} from '../topic-change.js';
import type { CatchUpCursor, ShardPlace } from '../vector-id.js';
import type { CatchUpPlace, CatchUpsUnderWay, VectorLease } from '../vector-lease.js';
import { isVisibleTo, reaches } from '../visibility.js';
import type { RedisLog } from './redis-log.js';

/** A topic a stream joined: the shard it is on, and where its messages start to count there. */
interface Joined {
  readonly shard: number;
  readonly from: LogPosition;
}

/**
 * What a stream on a sharded log is owed for the topics a change of its client joins: on each of
 * their shards, their messages from the change's marker there (the change itself on its own
 * shard) up to where the stream stands, which it is given late, and everything it may see after
 * where it stands up to the end of the log, in the shard's order, which moves it on. Its place on
 * a shard it read nothing of is the earliest marker. Before it reads, it listens on the topics'
 * channels, so that what comes after the end it reads is heard (the stream drops what it has).
 *
 * Late, a topic's messages keep their own order, but not their order against the other messages
 * of the shard the stream had: a race of the change and the shard, written down in the README. A
 * leave of a joined topic whose marker it meets (a later change, read here before it) is given to
 * the stream, which then drops the topic.
 */
export class JoinedHistory implements CatchUpSource {
  constructor(private readonly logs: readonly RedisLog[]) {}

  catchUp(
    message: BusMessage,
    change: LoggedChange,
    joined: readonly string[],
    before: Member['topics'],
    stream: Member,
    lease: StreamLease,
  ): AsyncIterable<BusMessage> {
    const vector = lease as VectorLease;
    return this.owed(this.start(message, change, joined, before, stream, vector, NONE), vector);
  }

  /**
   * Listens on the joined topics' channels, and stands on the shards of those it read nothing of
   * at once (so the change's own id names them); what is owed is read as it is iterated (see
   * `owed`). `outer`: the shards the catch-ups it is within have yet to read. With `resuming`,
   * only what that cursor of an earlier catch-up of the same change had not given yet (see
   * `resume`).
   */
  private start(
    message: BusMessage,
    change: LoggedChange,
    joined: readonly string[],
    before: Member['topics'],
    stream: Member,
    vector: VectorLease,
    outer: ReadonlySet<number>,
    resuming?: CatchUpCursor,
  ): CatchUp {
    const topics = new Map<string, Joined>();
    for (const topic of joined) {
      const marker = change.markers.find((each) => each.topics.includes(topic));
      topics.set(
        topic,
        marker
          ? { shard: marker.shard, from: parseEntryId(marker.id) }
          : { shard: message.shard!, from: message.position },
      );
    }
    const shards: Shard[] = [];
    for (const shard of new Set([...topics.values()].map((each) => each.shard))) {
      if (resuming && shard < resuming.shard) continue;
      const here = [...topics].filter(([, each]) => each.shard === shard);
      let from = here.map(([, each]) => each.from).reduce(earlier);
      if (resuming?.shard === shard) from = later(from, resuming.position);
      const channels = here.map(([topic]) => topicChannel(topic));
      shards.push({ shard, from, listening: vector.listen(channels, () => from) });
    }
    // In the shards' order, which a resume from a cursor takes them in again.
    shards.sort((x, y) => x.shard - y.shard);
    const place = vector.openCatchUp(
      { shard: message.shard!, position: message.position },
      cursorOn(shards[0], vector),
    );
    // Those within it are met in its read of the client's shard: it reads the shards after later.
    const after = shards.filter(({ shard }) => shard > message.shard!).map(({ shard }) => shard);
    return {
      shards,
      topics,
      had: { clientId: stream.clientId, topics: before },
      stream,
      place,
      outer,
      within: new Set([...outer, ...after]),
    };
  }

  /**
   * What a stream resuming from an id given during joins' catch-ups (which names their changes
   * and the innermost's cursor) is still owed of them, before anything else: the rest of each,
   * the innermost first, as the stream would have gone on, each from its change on the client's
   * shard and its membership before it (with the topics the stream asked for). Undefined when
   * the id names no cursor.
   */
  resume(
    stream: Member,
    lease: StreamLease,
    asked: Member['topics'],
    atCursor: Promise<StreamTopics>,
  ): AsyncIterable<BusMessage> | undefined {
    const underWay = (lease as VectorLease).resumesCatchUps;
    return underWay && this.resumed(underWay, stream, lease as VectorLease, asked, atCursor);
  }

  private async *resumed(
    { cursor, changes }: CatchUpsUnderWay,
    stream: Member,
    lease: VectorLease,
    asked: Member['topics'],
    atCursor: Promise<StreamTopics>,
  ): AsyncIterable<BusMessage> {
    // The topics it had at its cursor, as the replay sets them (which waits behind this).
    Object.assign(stream, await atCursor);
    const own = shardOf(clientChannel(stream.clientId), this.logs.length);
    const places = changes ?? [{ shard: own, position: lease.positionOn(own)! }];
    const found = await Promise.all(places.map((place) => this.changeAt(place, stream.clientId)));
    // Each outer one met the next in its read of the client's shard, which it goes on with from
    // its change once those within it are done: so they start first, and end last.
    const started: CatchUp[] = [];
    let outer: ReadonlySet<number> = NONE;
    for (const [i, each] of found.entries()) {
      if (!each) continue;
      const had = startingTopics(asked, each.change.before);
      const joined = each.change.join.filter((topic) => !had?.has(topic));
      if (joined.length === 0) continue;
      const from = i === found.length - 1 ? cursor : places[i];
      const { message, change } = each;
      started.push(this.start(message, change, joined, had, stream, lease, outer, from));
      outer = started.at(-1)!.within;
    }
    for (const catchUp of started.reverse()) yield* this.owed(catchUp, lease);
  }

  /** The change of `clientId` at `place` on the client's shard, if it is one. */
  private async changeAt(
    { shard, position }: ShardPlace,
    clientId: string,
  ): Promise<{ message: BusMessage; change: LoggedChange } | undefined> {
    try {
      for await (const page of this.logs[shard].history(justBefore(position))) {
        const message = page[0];
        if (!message || comparePositions(message.position, position) !== 0) return undefined;
        const change = message.to?.[0] === clientId ? topicChangeOf(message) : undefined;
        return change && { message, change };
      }
    } catch (err) {
      // Gone from the log: the rest of that catch-up is lost, as it was before cursors.
      if (!(err instanceof HistoryGap)) throw err;
    }
    return undefined;
  }

  /**
   * What a catch-up owes, a shard after another in their order. Ahead of where the stream stands
   * on a shard that a catch-up it is within has yet to read, nothing: that one gives it there,
   * after the late messages it owes.
   */
  private async *owed(catchUp: CatchUp, vector: VectorLease): AsyncIterable<BusMessage> {
    const { shards, topics, had, stream, place, outer, within } = catchUp;
    const { change } = place;
    for (const [i, { shard, from, listening }] of shards.entries()) {
      if (listening) await listening;
      // On the client's shard it stood at the change, when it met it: so too on a resume, which
      // may stand further there.
      const stood = shard === change.shard ? change.position : vector.positionOn(shard)!;
      const owed = (entry: BusMessage): boolean => {
        if (comparePositions(entry.position, vector.positionOn(shard)!) > 0) {
          if (outer.has(shard) || !isVisibleTo(entry, stream)) return false;
          // A topic message counts from its topic's join; a marker, for a topic still on.
          const topicOnly = entry.to === null && entry.topics !== null;
          return !(topicOnly || topicMarkerOf(entry)) || onAfterJoins(entry, stream, topics, true);
        }
        // Behind where it stood: only what the joined topics bring, and their leaves' markers.
        if (comparePositions(entry.position, stood) > 0) return false;
        if (entry.topics === null || !onAfterJoins(entry, stream, topics, false)) return false;
        if (entry.to !== null) return entry.to[0] === stream.clientId && !!topicMarkerOf(entry);
        return !reaches(entry, had) && reaches(entry, stream);
      };
      // Past the late messages of this shard: the next shard's are what is left to give. On the
      // client's shard, where later changes are met, a resume reads the rest again from the
      // change, so that what they owe comes in the same order.
      const rest = () =>
        shard === change.shard ? { shard, position: stood } : cursorOn(shards[i + 1], vector);
      for await (const page of this.logs[shard].history(earlier(from, stood))) {
        for (const entry of page) {
          if (!owed(entry)) continue;
          const late = comparePositions(entry.position, stood) <= 0;
          vector.moveCatchUp(place, late ? { shard, position: entry.position } : rest());
          const later = topicChangeOf(entry);
          const joining = later?.join.filter((topic) => !stream.topics?.has(topic)) ?? [];
          // A later change of the client, read here ahead of the stream: caught up with at once,
          // within this catch-up.
          const next =
            joining.length > 0
              ? this.start(entry, later!, joining, stream.topics, stream, vector, within)
              : undefined;
          yield entry;
          if (next) yield* this.owed(next, vector);
        }
      }
      vector.moveCatchUp(place, cursorOn(shards[i + 1], vector));
    }
    vector.closeCatchUp(place);
  }
}

/** A catch-up started: see `JoinedHistory.start`. */
interface CatchUp {
  readonly shards: readonly Shard[];
  readonly topics: ReadonlyMap<string, Joined>;
  /** The stream as it was before the change. */
  readonly had: Member;
  readonly stream: Member;
  readonly place: CatchUpPlace;
  /** The shards the catch-ups it is within have yet to read. */
  readonly outer: ReadonlySet<number>;
  /** Those, and the shards it reads after the client's: for the catch-ups within it. */
  readonly within: ReadonlySet<number>;
}

const NONE: ReadonlySet<number> = new Set();

/** A shard of a catch-up: where its owed messages start, and its channels being listened on. */
interface Shard {
  readonly shard: number;
  readonly from: LogPosition;
  readonly listening?: Promise<void>;
}

/** The cursor of a catch-up about to give `shard`'s late messages: none given yet. */
function cursorOn(shard: Shard | undefined, lease: VectorLease): CatchUpCursor | undefined {
  return (
    shard && { shard: shard.shard, position: earlier(shard.from, lease.positionOn(shard.shard)!) }
  );
}

function later(a: LogPosition, b: LogPosition): LogPosition {
  return comparePositions(a, b) >= 0 ? a : b;
}

/** The position just before `position`, from which a read of the log starts with it. */
function justBefore({ ms, seq }: LogPosition): LogPosition {
  return seq > 0 ? { ms, seq: seq - 1 } : { ms: ms - 1, seq: Number.MAX_SAFE_INTEGER };
}

function earlier(a: LogPosition, b: LogPosition): LogPosition {
  return comparePositions(a, b) <= 0 ? a : b;
}

/**
 * Whether `entry` is on a topic the stream is on, counting from that topic's join when it is one
 * of the joined `topics`; with `had`, a topic it had before counts too.
 */
function onAfterJoins(
  entry: BusMessage,
  stream: Member,
  topics: ReadonlyMap<string, Joined>,
  had: boolean,
): boolean {
  return entry.topics!.some((topic) => {
    const joined = topics.get(topic);
    if (!stream.topics?.has(topic)) return false;
    return joined ? comparePositions(entry.position, joined.from) > 0 : had;
  });
}
