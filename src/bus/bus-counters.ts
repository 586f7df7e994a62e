import { SocketBytes } from '../redis/socket-bytes.js';
import type { ResetReason } from './bus-event.js';

/** What a message is addressed to: everyone, clients (on topics or not), or topics. */
export type MessageKind = 'broadcast' | 'client' | 'topic';

/**
 * What the bus counts as it works, as plain numbers: the hot paths add to them at most once per
 * routed message, never per frame and connection, and whoever reports them (the metrics) reads
 * them when asked. One per module instance: two apps in one process count apart.
 */
export class BusCounters {
  readonly messagesPublished: Record<MessageKind, number> = { broadcast: 0, client: 0, topic: 0 };
  /** Live events handed to streams: each routed event counts once per stream it reached. */
  framesDelivered = 0;
  /** Messages a resuming stream was given from the history. */
  framesReplayed = 0;
  /** `reset` events sent to streams. */
  readonly resets: Record<ResetReason, number> = {
    malformed: 0,
    epoch: 0,
    expired: 0,
    ahead: 0,
    lost: 0,
  };
  /** Connections to Redis established again after one was lost or replaced. */
  redisReconnects = 0;
  /** What the connections that receive the log's live messages read from Redis. */
  readonly redisBytesRead = new SocketBytes();
}

export function messageKind(message: {
  readonly to: readonly string[] | null;
  readonly topics: readonly string[] | null;
}): MessageKind {
  if (message.to !== null) return 'client';
  return message.topics === null ? 'broadcast' : 'topic';
}
