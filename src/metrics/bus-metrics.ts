import { Histogram } from 'prom-client';
import type { ResetReason } from '../bus/bus-event.js';
import { SocketBytes } from './socket-bytes.js';

/**
 * Why a stream ended: its client left, or was too slow and cut off, its token expired, the
 * instance shut down, or the bus failed it.
 */
export type CloseReason = 'client' | 'slow' | 'expired' | 'shutdown' | 'error';

/** Why a stream was not opened: the instance was full, or shutting down. */
export type TurnAwayReason = 'full' | 'shutdown';

/** What a message is addressed to: everyone, clients (on topics or not), or topics. */
export type MessageKind = 'broadcast' | 'client' | 'topic';

/**
 * What the bus counts as it works. The hot paths add to plain numbers, at most once per routed
 * message, never per frame and connection; the Prometheus collectors read them at scrape time.
 * One per module instance: two apps in one process count apart.
 */
export class BusMetrics {
  streamsOpened = 0;
  readonly streamsClosed: Record<CloseReason, number> = {
    client: 0,
    slow: 0,
    expired: 0,
    shutdown: 0,
    error: 0,
  };
  readonly streamsTurnedAway: Record<TurnAwayReason, number> = { full: 0, shutdown: 0 };
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
  /** How long `publish()` took to have the message in the log, or to give up. */
  readonly publishSeconds = new Histogram({
    name: 'sse_bus_publish_duration_seconds',
    help: 'Time from publish() to the message being in the log (or to publish() giving up).',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    // Registered by the app's own registry, if it has one, never by prom-client's global one.
    registers: [],
  });
}

/** Which `MessageKind` a message is. */
export function messageKind(message: {
  readonly to: readonly string[] | null;
  readonly topics: readonly string[] | null;
}): MessageKind {
  if (message.to !== null) return 'client';
  return message.topics === null ? 'broadcast' : 'topic';
}
