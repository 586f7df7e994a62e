import { MAX_SHARDS } from '../bus/shards.js';
import { clusterNodes } from '../bus/transports/redis-connection.js';
import { ConfigError } from './config.error.js';

/** How `SseBusModule` behaves. Every field is optional; the defaults suit one instance. */
export interface SseBusOptions {
  /**
   * Redis URL (`redis://host:port/db`), or a Redis Cluster's nodes
   * (`redis-cluster://host:port,host:port,…`). Unset: the embedded in-process bus (one instance).
   */
  redisUrl?: string;
  /**
   * On a Redis Cluster, shards the log is split into (1 to 8), spread over its masters by hash
   * tag. Every instance of a bus must have the same. @default 8
   */
  redisShards?: number;
  /**
   * On a Redis Cluster, replicas that must have a message before `publish()` resolves (`WAIT`):
   * with 1, a master's failover loses no acknowledged message. @default 0
   */
  redisWaitReplicas?: number;
  /** Prefix of the Redis keys; instances with the same prefix form one bus. @default 'sse-bus' */
  redisKeyPrefix?: string;
  /** Interval of the heartbeat comment on every stream. @default 15000 */
  heartbeatMs?: number;
  /** The `retry:` sent on connect: how long a browser waits before reconnecting. @default 3000 */
  retryMs?: number;
  /** HS256 secret. Set: a client id is the `sub` of a token every stream must carry. */
  jwtSecret?: string;
  /** Cookie the token may come in, besides `?token=` and `Authorization`. @default 'sse_token' */
  jwtCookie?: string;
  /** The token claim that lists the topics it may subscribe to. @default 'topics' */
  jwtTopicsClaim?: string;
  /** Bearer token of `POST /sse/publish`. Unset: the route is off (404). */
  publishToken?: string;
  /** Messages kept for clients that resume with `Last-Event-ID`. @default 10000 */
  historyMaxLength?: number;
  /**
   * Bytes of message data the embedded bus keeps in its history, at most; with Redis, each
   * instance keeps that much of the latest in memory too, to serve resuming clients from.
   * @default 64 MiB
   */
  historyMaxBytes?: number;
  /**
   * Age past which messages leave the history (ms), by the instance's clock. Trimmed every
   * quarter of it (every 10 ms at most, every minute at least), so a message may outlive it by
   * that much. Unset: kept by count (and bytes) only.
   */
  historyMaxAgeMs?: number;
  /**
   * How long presence counts the streams of an instance that stopped refreshing them (ms); each
   * instance refreshes every third of it. @default 30000
   */
  presenceTtlMs?: number;
  /** How long `publish()` waits for an unreachable bus before it rejects. @default 5000 */
  publishTimeoutMs?: number;
  /** Bytes a stream may have waiting for a client; past it, the client is cut off. @default 1 MiB */
  maxBufferedBytes?: number;
  /** Open streams per instance; more are asked to come back later. @default 10000 */
  maxConnections?: number;
  /** Largest `data`, in bytes of JSON. @default 64 KiB */
  maxMessageBytes?: number;
  /** Longest a shutdown may take. @default 10000 */
  shutdownMs?: number;
  /** Spread of the `retry:` sent to streams ended by a shutdown or turned away. @default 5000 */
  reconnectJitterMs?: number;
  /** Origins allowed by CORS. Empty: CORS off. @default [] */
  corsOrigins?: string[];
}

/** Options with no default: unset means off. */
type Optional = 'redisUrl' | 'jwtSecret' | 'publishToken' | 'historyMaxAgeMs';

export type ResolvedSseBusOptions = Required<Omit<SseBusOptions, Optional>> &
  Pick<SseBusOptions, Optional>;

type Numeric = {
  [K in keyof SseBusOptions]-?: NonNullable<SseBusOptions[K]> extends number ? K : never;
}[keyof SseBusOptions];

interface NumericSpec {
  readonly env: string;
  readonly default: number | undefined;
  readonly min: number;
  readonly max?: number;
}

/** Each numeric option: its environment variable, default and smallest value. */
export const NUMERIC_OPTIONS: Record<Numeric, NumericSpec> = {
  redisShards: { env: 'SSE_REDIS_SHARDS', default: 8, min: 1, max: MAX_SHARDS },
  redisWaitReplicas: { env: 'SSE_REDIS_WAIT_REPLICAS', default: 0, min: 0 },
  heartbeatMs: { env: 'SSE_HEARTBEAT_MS', default: 15_000, min: 10 },
  retryMs: { env: 'SSE_RETRY_MS', default: 3_000, min: 0 },
  historyMaxLength: { env: 'SSE_HISTORY_MAXLEN', default: 10_000, min: 1 },
  historyMaxBytes: { env: 'SSE_HISTORY_MAX_BYTES', default: 64 * 1024 * 1024, min: 1024 },
  historyMaxAgeMs: { env: 'SSE_HISTORY_MAX_AGE_MS', default: undefined, min: 10 },
  presenceTtlMs: { env: 'SSE_PRESENCE_TTL_MS', default: 30_000, min: 30 },
  publishTimeoutMs: { env: 'SSE_PUBLISH_TIMEOUT_MS', default: 5_000, min: 1 },
  maxBufferedBytes: { env: 'SSE_MAX_BUFFERED_BYTES', default: 1024 * 1024, min: 1024 },
  maxConnections: { env: 'SSE_MAX_CONNECTIONS', default: 10_000, min: 1 },
  maxMessageBytes: { env: 'SSE_MAX_MESSAGE_BYTES', default: 64 * 1024, min: 1 },
  shutdownMs: { env: 'SSE_SHUTDOWN_MS', default: 10_000, min: 1 },
  reconnectJitterMs: { env: 'SSE_RECONNECT_JITTER_MS', default: 5_000, min: 0 },
};

/**
 * Applies the defaults and checks every value; a wrong one throws a `ConfigError` naming it, by
 * its option name or, with `names: 'env'`, by its environment variable.
 */
export function resolveSseBusOptions(
  options: SseBusOptions = {},
  names: 'option' | 'env' = 'option',
): ResolvedSseBusOptions {
  const name = (key: Numeric) => (names === 'env' ? NUMERIC_OPTIONS[key].env : key);
  const numbers = {} as Record<Numeric, number>;
  for (const [key, spec] of Object.entries(NUMERIC_OPTIONS) as [Numeric, NumericSpec][]) {
    const value = options[key] ?? spec.default;
    if (value === undefined) continue;
    const max = spec.max ?? Number.MAX_SAFE_INTEGER;
    if (!Number.isSafeInteger(value) || value < spec.min || value > max) {
      const range = spec.max === undefined ? `>= ${spec.min}` : `from ${spec.min} to ${max}`;
      throw new ConfigError(`${name(key)}: expected a whole number ${range}, got ${String(value)}`);
    }
    numbers[key] = value;
  }
  // A replay pauses at half the buffer: one message must fit in the other half.
  if (numbers.maxBufferedBytes < 2 * numbers.maxMessageBytes) {
    throw new ConfigError(
      `${name('maxBufferedBytes')}: expected at least twice ${name('maxMessageBytes')}, got ${numbers.maxBufferedBytes}`,
    );
  }
  for (const key of ['redisUrl', 'jwtSecret', 'publishToken', 'jwtTopicsClaim'] as const) {
    const value = options[key];
    if (value !== undefined && (typeof value !== 'string' || value === '')) {
      throw new ConfigError(`${key}: expected a non-empty string or nothing`);
    }
  }
  if (options.redisUrl !== undefined && !isRedisUrl(options.redisUrl)) {
    throw new ConfigError(
      `redisUrl: expected redis://…, rediss://… or redis-cluster://host:port,…, got ${options.redisUrl}`,
    );
  }
  return {
    ...numbers,
    redisUrl: options.redisUrl,
    redisKeyPrefix: options.redisKeyPrefix ?? 'sse-bus',
    jwtSecret: options.jwtSecret,
    jwtCookie: options.jwtCookie ?? 'sse_token',
    jwtTopicsClaim: options.jwtTopicsClaim ?? 'topics',
    publishToken: options.publishToken,
    corsOrigins: options.corsOrigins ?? [],
  };
}

/** Whether `url` is a Redis URL the bus takes: one node, or a cluster's nodes. */
export function isRedisUrl(url: string): boolean {
  return /^rediss?:\/\/[^\s]+$/.test(url) || clusterNodes(url) !== undefined;
}
