import type { BusMessage } from '../bus-event.js';
import { topicChannel } from '../channels.js';
import type { CatchUpSource } from '../join-catch-up.js';
import { type LogPosition, comparePositions, parseEntryId } from '../log-position.js';
import type { StreamLease } from '../stream-lease.js';
import { type LoggedChange, type Member, topicChangeOf, topicMarkerOf } from '../topic-change.js';
import type { VectorLease } from '../vector-lease.js';
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

  /**
   * Listens on the joined topics' channels, and stands on the shards of those it read nothing of
   * at once (so the change's own id names them); what is owed is read as it is iterated.
   */
  catchUp(
    message: BusMessage,
    change: LoggedChange,
    joined: readonly string[],
    before: Member['topics'],
    stream: Member,
    lease: StreamLease,
  ): AsyncIterable<BusMessage> {
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
    const shards = new Map<number, { from: LogPosition; listening?: Promise<void> }>();
    for (const shard of new Set([...topics.values()].map((each) => each.shard))) {
      const here = [...topics].filter(([, each]) => each.shard === shard);
      const from = here.map(([, each]) => each.from).reduce(earlier);
      const channels = here.map(([topic]) => topicChannel(topic));
      shards.set(shard, { from, listening: (lease as VectorLease).listen(channels, () => from) });
    }
    return this.owed(shards, topics, { clientId: stream.clientId, topics: before }, stream, lease);
  }

  private async *owed(
    shards: ReadonlyMap<number, { from: LogPosition; listening?: Promise<void> }>,
    topics: ReadonlyMap<string, Joined>,
    had: Member,
    stream: Member,
    lease: StreamLease,
  ): AsyncIterable<BusMessage> {
    const vector = lease as VectorLease;
    for (const [shard, { from, listening }] of shards) {
      if (listening) await listening;
      const stood = vector.positionOn(shard)!;
      const owed = (entry: BusMessage): boolean => {
        if (comparePositions(entry.position, vector.positionOn(shard)!) > 0) {
          if (!isVisibleTo(entry, stream)) return false;
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
      for await (const page of this.logs[shard].history(earlier(from, stood))) {
        for (const entry of page) {
          if (!owed(entry)) continue;
          const later = topicChangeOf(entry);
          const joining = later?.join.filter((topic) => !stream.topics?.has(topic)) ?? [];
          // A later change of the client, read here ahead of the stream: caught up with at once.
          const next =
            joining.length > 0
              ? this.catchUp(entry, later!, joining, stream.topics, stream, lease)
              : undefined;
          yield entry;
          if (next) yield* next;
        }
      }
    }
  }
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
