import type { HeldChange } from './membership-projection.js';
import { type LogPosition, comparePositions, parseEntryId } from './log-position.js';
import type { CursorMembership, Membership } from './topic-change.js';

/**
 * A client's membership as a stream of it stood at a place in a sharded log: `atClient`, the
 * membership as of its position on the client's shard (`clientAt`), corrected by the client's
 * `changes` whose leaves take effect at their markers on other shards (`at(shard)`: where the
 * stream stood there). A join takes effect at its change, on the client's shard (the stream then
 * catches up from the marker); a leave on another shard at its marker. So a topic a change before
 * `clientAt` left is still on while its marker is after `at(shard)`, and one a change after it
 * left is off once its marker is at or before.
 */
export function membershipOnShards(
  atClient: Membership,
  changes: readonly HeldChange[],
  clientAt: LogPosition,
  at: (shard: number) => LogPosition,
): Membership {
  const joined = new Set(atClient.joined);
  const left = new Set(atClient.left);
  // Topics left by the last change of them up to `clientAt`, whose markers were still ahead.
  const pending = new Map<string, 'joined' | 'left' | undefined>();
  for (const { position, change } of changes) {
    const before = comparePositions(position, clientAt) <= 0;
    change.join.forEach((topic) => before && pending.delete(topic));
    for (const { shard, id, topics } of change.markers) {
      const marked = comparePositions(parseEntryId(id), at(shard)) <= 0;
      for (const topic of topics.filter((each) => change.leave.includes(each))) {
        if (before && !marked) pending.set(topic, stateIn(change.before, topic));
        else if (before) pending.delete(topic);
        else if (marked) {
          joined.delete(topic);
          left.add(topic);
        }
      }
    }
  }
  for (const [topic, state] of pending) {
    left.delete(topic);
    joined.delete(topic);
    if (state === 'joined') joined.add(topic);
    if (state === 'left') left.add(topic);
  }
  return { joined: [...joined], left: [...left] };
}

function stateIn({ joined, left }: Membership, topic: string): 'joined' | 'left' | undefined {
  return joined.includes(topic) ? 'joined' : left.includes(topic) ? 'left' : undefined;
}

/**
 * The topics joined by `changes` up to `clientAt` whose markers were ahead of where the stream
 * stood on their shards (`at(shard)`): the stream had them, but their messages count only from
 * their markers on. Each with its shard and marker.
 */
export function joinsAhead(
  changes: readonly HeldChange[],
  clientAt: LogPosition,
  at: (shard: number) => LogPosition,
): Map<string, { readonly shard: number; readonly from: LogPosition }> {
  const ahead = new Map<string, { readonly shard: number; readonly from: LogPosition }>();
  for (const { position, change } of changes) {
    if (comparePositions(position, clientAt) > 0) break;
    change.leave.forEach((topic) => ahead.delete(topic));
    change.join.forEach((topic) => ahead.delete(topic));
    for (const { shard, id, topics } of change.markers) {
      const from = parseEntryId(id);
      if (comparePositions(from, at(shard)) <= 0) continue;
      for (const topic of topics.filter((each) => change.join.includes(each))) {
        ahead.set(topic, { shard, from });
      }
    }
  }
  return ahead;
}

/**
 * The rejoins of a stream that stood at `clientAt` on the client's shard and at `at(shard)` on
 * the others (see `Rejoin`): topics that `changes` up to `clientAt` left, with markers the stream
 * had not passed, and joined again after.
 */
export function rejoinsAt(
  changes: readonly HeldChange[],
  clientAt: LogPosition,
  at: (shard: number) => LogPosition,
): CursorMembership['rejoins'] {
  type Rejoins = NonNullable<CursorMembership['rejoins']>;
  let rejoins: Rejoins | undefined;
  // Topics whose first leave still ahead was of a topic the stream may have been on: whether only
  // if it asked for it.
  const leaving = new Map<string, boolean>();
  for (const { position, change } of changes) {
    if (comparePositions(position, clientAt) > 0) break;
    for (const { shard, id, topics } of change.markers) {
      const marker = parseEntryId(id);
      if (comparePositions(marker, at(shard)) <= 0) continue;
      for (const topic of topics) {
        const state = stateIn(change.before, topic);
        if (change.leave.includes(topic)) {
          if (state !== 'left' && !leaving.has(topic)) leaving.set(topic, state === undefined);
        } else if (leaving.has(topic)) {
          const markers = [...(rejoins?.get(topic)?.markers ?? []), marker];
          const ifAsked = leaving.get(topic)!;
          rejoins = new Map(rejoins).set(topic, { shard, markers, off: false, ifAsked });
        }
      }
    }
  }
  return rejoins;
}
