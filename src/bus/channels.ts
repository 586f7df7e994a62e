import type { Audience, BusMessage } from './bus-event.js';
import { TOPICS_EVENT } from './topic-change.js';

/**
 * The channels of a sharded log: a message is published on its clients' channels, else its
 * topics', else the broadcast channel; a stream listens on the broadcast channel, its client's
 * and its topics'. Each channel's messages go to one shard.
 */

/** The channel of every broadcast: on shard 0. */
export const BROADCAST_CHANNEL = 'b';

/** What a client's channel starts with, before its id. */
export const CLIENT_CHANNEL = 'c:';

export const clientChannel = (clientId: string) => `${CLIENT_CHANNEL}${clientId}`;
export const topicChannel = (topic: string) => `t:${topic}`;

/**
 * The shard a channel's messages are written to: FNV-1a of its name, so that every instance
 * agrees without asking anyone.
 */
export function shardOf(channel: string, shards: number): number {
  if (shards === 1 || channel === BROADCAST_CHANNEL) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < channel.length; i++) {
    hash = Math.imul(hash ^ channel.charCodeAt(i), 0x01000193);
  }
  return (hash >>> 0) % shards;
}

/**
 * The channels a message is published on. A change's marker on a topic's shard (see
 * `topicMarkerOf`) is for its client, on its topics' channels.
 */
export function channelsOf(message: Pick<BusMessage, 'to' | 'topics' | 'event'>): string[] {
  if (message.to !== null && message.topics !== null && message.event === TOPICS_EVENT) {
    return message.topics.map(topicChannel);
  }
  if (message.to !== null) return message.to.map(clientChannel);
  if (message.topics !== null) return message.topics.map(topicChannel);
  return [BROADCAST_CHANNEL];
}

/** The channels a stream of `audience` listens on. */
export function channelsFor({ clientId, topics }: Audience): string[] {
  const channels = [BROADCAST_CHANNEL, clientChannel(clientId)];
  topics?.forEach((topic) => channels.push(topicChannel(topic)));
  return channels;
}

/** `channels` by the shard they are on; or any items, by the shard of their `channelOf`. */
export function byShard(
  channels: readonly string[],
  shards: number,
  channelOf = (item: string) => item,
): Map<number, string[]> {
  const grouped = new Map<number, string[]>();
  for (const channel of channels) {
    const shard = shardOf(channelOf(channel), shards);
    const list = grouped.get(shard);
    if (list) list.push(channel);
    else grouped.set(shard, [channel]);
  }
  return grouped;
}

/**
 * Which copy of a message written to several shards a stream of `audience` takes: the one on
 * the shard of its own client's channel, or of the first of its topics the message is on.
 */
export function designatedShard(
  message: Pick<BusMessage, 'to' | 'topics'>,
  { clientId, topics }: Audience,
  shards: number,
): number {
  if (message.to !== null) return shardOf(clientChannel(clientId), shards);
  let designated = shards;
  for (const topic of message.topics ?? []) {
    if (topics?.has(topic)) designated = Math.min(designated, shardOf(topicChannel(topic), shards));
  }
  return designated;
}
