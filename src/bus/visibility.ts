import type { Audience, BusEvent, BusMessage } from './bus-event.js';
import { designatedShard } from './channels.js';
import { offByRejoin } from './rejoins.js';
import { TOPICS_EVENT } from './topic-change.js';

/**
 * Whether a stream of `audience` gets `event`. A message on topics reaches the streams
 * subscribed to one of them (and with client ids, only theirs); one without reaches every stream
 * (or those of its client ids).
 */
export function isVisibleTo(event: BusEvent, audience: Audience): boolean {
  if (event.kind === 'reset') return true;
  if (event.to !== null && !event.to.includes(audience.clientId)) return false;
  return reaches(event, audience);
}

/**
 * Whether `message`, addressed to everyone or to `audience`'s client among others, reaches a
 * stream of `audience`: it is on none of its topics or on one of them, and (on a sharded log) it
 * is the copy that stream takes. A message to the client is on its client's shard, and counts by
 * the topics its changes leave in that shard's order; a marker, on its topics' shard, by `topics`.
 * A topic the stream is off between a leave's marker and a rejoin's (see `Rejoin`) counts for none.
 */
export function reaches(message: BusMessage, audience: Audience): boolean {
  if (message.topics !== null) {
    const { clientTopics, rejoins } = audience;
    const marker = message.to !== null && message.event === TOPICS_EVENT;
    const topics =
      clientTopics !== undefined && message.to !== null && !marker ? clientTopics : audience.topics;
    if (topics === null || !message.topics.some((t) => topics.has(t))) return false;
    // Between a leave's marker and a rejoin's, the topic's messages do not count (its markers do).
    const off = (t: string) => !topics.has(t) || offByRejoin(audience, t, message);
    if (rejoins && !marker && message.topics.every(off)) return false;
  }
  return (
    message.spread === undefined ||
    message.shard === designatedShard(message, audience, message.spread)
  );
}
