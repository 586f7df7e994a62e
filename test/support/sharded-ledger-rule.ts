import { BROADCAST_CHANNEL, clientChannel, shardOf, topicChannel } from '../../src/bus/channels.js';
import { type LogPosition, comparePositions } from '../../src/bus/log-position.js';
import { type ShardPositions, parseVectorId, startOn } from '../../src/bus/vector-id.js';
import type { LedgerRule, LoggedChange, StreamSpan } from './membership-ledger.js';

const positionsOf = (id: string): ShardPositions => {
  const parsed = parseVectorId(id);
  if (!parsed) throw new Error(`Not an id of a sharded log: ${id}`);
  return parsed.positions;
};

/**
 * A Redis Cluster of `shards` shards (ids are vectors of per-shard positions): a stream gets an
 * entry iff one of the copies it may take, at position p on its shard s, is one a resume from
 * the stream's start would replay and one from its end would not (`startOn(start, s)` < p <=
 * `startOn(end, s)`), and is for everyone or for the stream's client, and on no topic or on a
 * topic T the stream has at p: (asked for ∪ joined) − left, as the client's changes whose
 * positions on s (a change's id names its entry on the client's shard and its markers on the
 * shards of the topics it moves) are before p leave T. The copies it may take: the one on its
 * client's shard, for an entry to clients; else one per topic T on T's shard; else the
 * broadcast's.
 */
export function shardedLog(shards: number): LedgerRule {
  return {
    shouldGet(entry, stream, changes) {
      if (entry.to !== null && !entry.to.includes(stream.clientId)) return false;
      const copies =
        entry.to !== null
          ? [{ channel: clientChannel(stream.clientId), topics: entry.topics }]
          : (entry.topics?.map((topic) => ({ channel: topicChannel(topic), topics: [topic] })) ?? [
              { channel: BROADCAST_CHANNEL, topics: null },
            ]);
      return copies.some(({ channel, topics }) => {
        const shard = shardOf(channel, shards);
        const at = positionsOf(entry.id).get(shard);
        if (!at || !between(stream, shard, at)) return false;
        return topics === null || topics.some((topic) => has(stream, topic, shard, at, changes));
      });
    },
  };
}

function between(stream: StreamSpan, shard: number, at: LogPosition): boolean {
  return (
    comparePositions(at, startOn(positionsOf(stream.start), shard)) > 0 &&
    comparePositions(at, startOn(positionsOf(stream.end), shard)) <= 0
  );
}

/** Whether `stream` has `topic` at `at` on `shard`, by the changes made before it there. */
function has(
  stream: StreamSpan,
  topic: string,
  shard: number,
  at: LogPosition,
  changes: readonly LoggedChange[],
): boolean {
  let member = stream.asked.includes(topic);
  for (const change of changes) {
    if (change.clientId !== stream.clientId) continue;
    if (!change.join.includes(topic) && !change.leave.includes(topic)) continue;
    const position = positionsOf(change.id).get(shard);
    if (!position) throw new Error(`The change ${change.id} names no position on shard ${shard}`);
    if (comparePositions(position, at) < 0) member = change.join.includes(topic);
  }
  return member;
}
