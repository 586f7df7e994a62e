import type { Audience, BusMessage, Rejoin, Rejoins } from './bus-event.js';
import { rejoinsAfterChange, rejoinsAfterMarker } from './rejoins.js';

/**
 * The event name of a change of a client's topics in the log, and of what its streams are sent
 * after it: reserved, so that only `join` and `leave` write one.
 */
export const TOPICS_EVENT = 'topics';

/** Topics a client joined and left in one change, by the server (`MessageBus.join`, `leave`). */
export interface TopicChange {
  readonly join: readonly string[];
  readonly leave: readonly string[];
}

/**
 * A client's topics as the server set them: every stream of it has the joined ones and not the
 * left ones, whatever it asked for.
 */
export interface Membership {
  readonly joined: readonly string[];
  readonly left: readonly string[];
}

export const NO_MEMBERSHIP: Membership = { joined: [], left: [] };

/**
 * A change on its way to the log, with the most topics it may leave its client joined to
 * (`maxTopicsPerClient`).
 */
export interface BoundedTopicChange extends TopicChange {
  readonly maxJoined: number;
}

/** A stream whose topics its client's changes move: its audience, as it stands now. */
export interface Member extends Audience {
  topics: ReadonlySet<string> | null;
  clientTopics?: ReadonlySet<string> | null;
  rejoins?: Rejoins;
}

/** The two views of a stream's topics, and its rejoins (see `Audience`). */
export type StreamTopics = Pick<Audience, 'topics' | 'clientTopics' | 'rejoins'>;

/**
 * A client's membership where a stream resumes from; on a sharded log also as of its place on
 * the client's shard alone (`inClientOrder`), with the leaves whose markers it had not passed.
 */
export interface CursorMembership extends Membership {
  readonly inClientOrder?: Membership;
  /**
   * The rejoins the stream had there (see `Rejoin`); `ifAsked`: the topic was on before its leave
   * only if the stream asked for it (the client had neither joined nor left it).
   */
  readonly rejoins?: ReadonlyMap<string, Rejoin & { readonly ifAsked: boolean }>;
}

/**
 * A change as the log holds it: with its client's membership before it, and the clients whose
 * memberships the log forgot with it (unused for their time to live), which every reader of the
 * log forgets too.
 */
export interface LoggedChange extends TopicChange {
  readonly before: Membership;
  readonly forgotten: readonly string[];
  /**
   * On a sharded log, the markers of the change on the shards of its topics that are not its
   * client's: each topic's messages count for the client's streams from its join's marker to its
   * leave's marker, in that shard's own order.
   */
  readonly markers: readonly ShardMarker[];
}

/** Where a change of a client's topics on another shard than the client's is marked in that shard. */
export interface ShardMarker {
  readonly shard: number;
  /** The marker's entry id on its shard. */
  readonly id: string;
  readonly topics: readonly string[];
}

const changes = new WeakMap<BusMessage, LoggedChange>();

/** The change `message` carries, when it is one (parsed once per process); else undefined. */
export function topicChangeOf(message: BusMessage): LoggedChange | undefined {
  if (message.event !== TOPICS_EVENT || message.to === null || message.topics !== null) {
    return undefined;
  }
  let change = changes.get(message);
  if (!change) {
    const parsed = JSON.parse(message.data) as Partial<LoggedChange>;
    const { join = [], leave = [], before = NO_MEMBERSHIP, forgotten = [], markers = [] } = parsed;
    changes.set(message, (change = { join, leave, before, forgotten, markers }));
  }
  return change;
}

/**
 * The marker `message` is, when it is one: on a sharded log, the part of a change of its client's
 * topics on the shard of those topics (`topics`), in that shard's order. Else undefined.
 */
export function topicMarkerOf(message: BusMessage): TopicChange | undefined {
  if (message.event !== TOPICS_EVENT || message.to === null || message.topics === null) {
    return undefined;
  }
  let marker = markers.get(message);
  if (!marker) {
    const { join = [], leave = [] } = JSON.parse(message.data) as Partial<TopicChange>;
    markers.set(message, (marker = { join, leave }));
  }
  return marker;
}

const markers = new WeakMap<BusMessage, TopicChange>();

/**
 * What `message` does to the topics a stream of its client is routed by, when it is a change or
 * a marker: a change joins its topics (a stream catches up with those on other shards from their
 * markers, see `JoinCatchUp`) and leaves those on its own shard; a leave on another shard takes
 * effect at its marker there, which comes in that shard's order.
 */
export function topicEffectOf(message: BusMessage): TopicChange | undefined {
  const change = topicChangeOf(message);
  if (change) {
    if (change.markers.length === 0) return change;
    const far = new Set(change.markers.flatMap((marker) => marker.topics));
    return { join: change.join, leave: change.leave.filter((topic) => !far.has(topic)) };
  }
  const marker = topicMarkerOf(message);
  return marker && { join: [], leave: marker.leave };
}

/**
 * A stream's topics after `message`, a change of its client's topics or its marker on another
 * shard, whose effect on routing is `effect` (see `topicEffectOf`): `topics` as `effect` moves
 * them, and `clientTopics` as the changes alone move them, all of each change at once (a marker
 * moves none), where the two differ; and its rejoins (a leave's marker that a join of the topic
 * read before it voids does not move `topics`, see `Rejoin`).
 */
export function moveTopics(
  stream: StreamTopics,
  message: BusMessage,
  effect: TopicChange,
): StreamTopics {
  const change = topicChangeOf(message);
  let rejoins = stream.rejoins;
  if (change && change.markers.length > 0) {
    rejoins = rejoinsAfterChange(stream, change);
  } else if (rejoins && !change) {
    const after = rejoinsAfterMarker(stream, message, topicMarkerOf(message)!);
    rejoins = after.rejoins;
    const { voided } = after;
    if (voided.length > 0) {
      effect = { join: effect.join, leave: effect.leave.filter((t) => !voided.includes(t)) };
    }
  }
  const topics = applyTopicChange(stream.topics, effect);
  // A change without markers (always, on a log with one order) is its effect: one view stays one.
  if (change === effect && stream.clientTopics === undefined && !rejoins) return { topics };
  const had = stream.clientTopics === undefined ? stream.topics : stream.clientTopics;
  const clientTopics = change ? applyTopicChange(had, change) : had;
  return {
    topics,
    clientTopics: sameTopics(topics, clientTopics) ? undefined : clientTopics,
    rejoins,
  };
}

/** The two views of the topics of a stream that asked for `asked`, from `membership` at its cursor. */
export function cursorTopics(
  asked: ReadonlySet<string> | null,
  membership: CursorMembership,
): StreamTopics {
  const topics = startingTopics(asked, membership);
  if (!membership.inClientOrder) return { topics };
  const clientTopics = startingTopics(asked, membership.inClientOrder);
  const rejoins = new Map(
    [...(membership.rejoins ?? [])]
      .filter(([topic, { ifAsked }]) => !ifAsked || asked?.has(topic))
      .map(([topic, { shard, markers, off }]) => [topic, { shard, markers, off }]),
  );
  return {
    topics,
    clientTopics: sameTopics(topics, clientTopics) ? undefined : clientTopics,
    rejoins: rejoins.size > 0 ? rejoins : undefined,
  };
}

function sameTopics(a: ReadonlySet<string> | null, b: ReadonlySet<string> | null): boolean {
  return (a?.size ?? 0) === (b?.size ?? 0) && [...(a ?? [])].every((topic) => b!.has(topic));
}

/** The topics of a stream on `topics` after `change`: a leave wins over a join of the same topic. */
export function applyTopicChange(
  topics: ReadonlySet<string> | null,
  { join, leave }: TopicChange,
): ReadonlySet<string> | null {
  const next = new Set([...(topics ?? []), ...join]);
  leave.forEach((topic) => next.delete(topic));
  return next.size > 0 ? next : null;
}

/** The client's membership after `change`. */
export function changeMembership({ joined, left }: Membership, change: TopicChange): Membership {
  const leaving = new Set(change.leave);
  const joining = new Set(change.join.filter((topic) => !leaving.has(topic)));
  return {
    joined: [...joined.filter((topic) => !leaving.has(topic)), ...joining].filter(unique),
    left: [...left.filter((topic) => !joining.has(topic)), ...leaving].filter(unique),
  };
}

/**
 * How many topics `change` would leave its client joined to, when that is over its `maxJoined`
 * and more than before (a change that takes none away from an over-full membership, after the
 * limit was lowered, still goes); else undefined. The Redis log's publish script checks the same.
 */
export function joinedPastLimit(
  before: Membership,
  change: BoundedTopicChange,
): number | undefined {
  const joined = changeMembership(before, change).joined.length;
  return joined > change.maxJoined && joined > before.joined.length ? joined : undefined;
}

/** The topics a stream that asked for `asked` starts with: (asked ∪ joined) − left. */
export function startingTopics(
  asked: ReadonlySet<string> | null,
  { joined, left }: Membership,
): ReadonlySet<string> | null {
  // Most clients have none: their streams keep the set they asked for.
  if (joined.length + left.length === 0) return asked;
  return applyTopicChange(asked, { join: joined, leave: left });
}

function unique<T>(item: T, index: number, all: readonly T[]): boolean {
  return all.indexOf(item) === index;
}
