import type { Audience, BusMessage, Rejoin, Rejoins } from './bus-event.js';
import { comparePositions, parseEntryId } from './log-position.js';

/** What a stream's rejoins are judged by: its topics in both views, and its rejoins so far. */
type StreamState = Pick<Audience, 'topics' | 'clientTopics' | 'rejoins'>;

/** What of a change of the client's topics, or of a marker, a rejoin depends on. */
interface ChangeJoins {
  readonly join: readonly string[];
  readonly markers: readonly {
    readonly shard: number;
    readonly id: string;
    readonly topics: readonly string[];
  }[];
}

/**
 * The stream's rejoins after it reads `change`: each topic it joins whose leave's marker the
 * stream has yet to meet (it is still routed by the topic, which the changes took away) is a
 * rejoin, until its join's marker.
 */
export function rejoinsAfterChange(stream: StreamState, change: ChangeJoins): Rejoins | undefined {
  let rejoins = stream.rejoins;
  for (const { shard, id, topics } of change.markers) {
    for (const topic of topics) {
      if (!change.join.includes(topic) || !leaving(stream, topic)) continue;
      const markers = [...(rejoins?.get(topic)?.markers ?? []), parseEntryId(id)];
      rejoins = new Map(rejoins).set(topic, {
        shard,
        markers,
        off: rejoins?.get(topic)?.off ?? false,
      });
    }
  }
  return rejoins;
}

/**
 * The stream's rejoins after it meets `marker` (on its topics' shard), and the leaves of the
 * marker they void: a leave's marker before a rejoin's only stops the topic's messages, and the
 * rejoin's marker starts them again.
 */
export function rejoinsAfterMarker(
  stream: StreamState,
  message: BusMessage,
  marker: { readonly join: readonly string[]; readonly leave: readonly string[] },
): { readonly rejoins: Rejoins | undefined; readonly voided: readonly string[] } {
  const { rejoins } = stream;
  if (!rejoins) return { rejoins, voided: [] };
  const next = new Map(rejoins);
  const voided: string[] = [];
  for (const [topic, rejoin] of rejoins) {
    if (rejoin.shard !== message.shard) continue;
    const before = comparePositions(message.position, rejoin.markers[0]) < 0;
    if (before && marker.leave.includes(topic)) {
      voided.push(topic);
      next.set(topic, { ...rejoin, off: true });
    } else if (!before && marker.join.includes(topic)) {
      const rest: Rejoin = { ...rejoin, markers: rejoin.markers.slice(1), off: false };
      if (rest.markers.length > 0) next.set(topic, rest);
      else next.delete(topic);
    }
  }
  return { rejoins: next.size > 0 ? next : undefined, voided };
}

/**
 * Whether `message` on `topic` comes while the stream is off it between a leave's marker and a
 * rejoin's (markers themselves always count: they move the stream).
 */
export function offByRejoin(audience: Audience, topic: string, message: BusMessage): boolean {
  const rejoin = audience.rejoins?.get(topic);
  return rejoin !== undefined && rejoin.off && rejoin.shard === message.shard;
}

/** A far leave of `topic` whose marker the stream has yet to meet: on it still, not by its changes. */
function leaving({ topics, clientTopics }: StreamState, topic: string): boolean {
  return !!topics?.has(topic) && clientTopics !== undefined && !clientTopics?.has(topic);
}
