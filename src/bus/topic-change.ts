import type { Audience, BusMessage } from './bus-event.js';

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
}

/**
 * A change as the log holds it: with its client's membership before it, and the clients whose
 * memberships the log forgot with it (unused for their time to live), which every reader of the
 * log forgets too.
 */
export interface LoggedChange extends TopicChange {
  readonly before: Membership;
  readonly forgotten: readonly string[];
}

const changes = new WeakMap<BusMessage, LoggedChange>();

/** The change `message` carries, when it is one (parsed once per process); else undefined. */
export function topicChangeOf(message: BusMessage): LoggedChange | undefined {
  if (message.event !== TOPICS_EVENT || message.to === null) return undefined;
  let change = changes.get(message);
  if (!change) {
    const parsed = JSON.parse(message.data) as Partial<LoggedChange>;
    const { join = [], leave = [], before = NO_MEMBERSHIP, forgotten = [] } = parsed;
    changes.set(message, (change = { join, leave, before, forgotten }));
  }
  return change;
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
