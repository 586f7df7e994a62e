import { ConfigError } from './config.error.js';
import { isRedisUrl } from './redis-url.js';

/** Shards a sharded log has, at most: a stream's id holds a position for each it reads. */
export const MAX_SHARDS = 8;

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
  /** Whether a token must have an `exp` claim: one without it would be good forever. @default true */
  jwtRequireExp?: boolean;
  /** Bearer token of `POST /sse/publish`. Unset: the route is off (404). */
  publishToken?: string;
  /** Messages kept for clients that resume with `Last-Event-ID`. @default 10000 */
  historyMaxLength?: number;
  /**
   * Bytes of messages the embedded bus keeps in its history, at most, each counted whole (data,
   * client ids, topics, event name and an estimate of the rest); with Redis, each instance keeps
   * that much of the latest in memory too, to serve resuming clients from. @default 64 MiB
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
  /**
   * How long the tokens of a client disconnected with `revokeTokens` stay refused (ms): set it to
   * the longest lifetime of a token. @default 86400000 (24 h)
   */
  revocationTtlMs?: number;
  /**
   * How long a client's topics joined and left at run time (`MessageBus.join`, `leave`) are kept
   * after its last change or its last stream, whichever is later (ms). @default 86400000 (24 h)
   */
  membershipTtlMs?: number;
  /** How long `publish()` waits for an unreachable bus before it rejects. @default 5000 */
  publishTimeoutMs?: number;
  /**
   * On a single Redis, how long an instance with no stream open (and nothing subscribed to
   * `MessageBus.events$`) goes on reading the log before it stops until one opens (ms): an
   * instance that only publishes then reads nothing back. The stream that opens waits for one
   * command, which reads where the log is then. @default 5000
   */
  readerIdleMs?: number;
  /** Bytes a stream may have waiting for a client; past it, the client is cut off. @default 1 MiB */
  maxBufferedBytes?: number;
  /** Open streams per instance; more are asked to come back later. @default 10000 */
  maxConnections?: number;
  /**
   * Open streams of one client id, counted over all instances (with Redis, within a second; an
   * instance that crashed stops counting after `presenceTtlMs`); more are refused with 429, and
   * those open stay. 0: no limit. @default 100
   */
  maxStreamsPerClient?: number;
  /**
   * Largest message: bytes of its `data` as JSON, its client ids, topics and event name together.
   * @default 64 KiB
   */
  maxMessageBytes?: number;
  /** Client ids one message may name. @default 1000 */
  maxRecipients?: number;
  /**
   * Topics one client may be joined to at run time (`MessageBus.join`, `changeTopics`), counted
   * on its membership as the change finds it: a change that would take it past the limit is
   * refused whole. @default 1000
   */
  maxTopicsPerClient?: number;
  /** Messages one `publishMany()` call, or one `POST /sse/publish` array, may carry. @default 1000 */
  maxBatch?: number;
  /**
   * How long a publish's idempotency key is remembered (ms): a publish with a key seen within it
   * answers the first one's id and delivers nothing. @default 600000 (10 min)
   */
  idempotencyWindowMs?: number;
  /**
   * Idempotency keys remembered per log (per shard on a Redis Cluster), at most; past it the
   * oldest is forgotten first. @default 100000
   */
  idempotencyMaxKeys?: number;
  /** Spread of the `retry:` sent to streams ended by a shutdown or turned away. @default 5000 */
  reconnectJitterMs?: number;
}

/** The longest delay a timer takes (ms): the embedded bus keeps blocks and revocations in timers. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Injection token of the resolved `SseBusOptions`. */
export const SSE_BUS_OPTIONS = Symbol('SSE_BUS_OPTIONS');

/** Options with no default: unset means off. */
type Optional = 'redisUrl' | 'jwtSecret' | 'publishToken' | 'historyMaxAgeMs';

export type ResolvedSseBusOptions = Required<Omit<SseBusOptions, Optional>> &
  Pick<SseBusOptions, Optional>;

export type NumericOption = {
  [K in keyof SseBusOptions]-?: NonNullable<SseBusOptions[K]> extends number ? K : never;
}[keyof SseBusOptions];

export interface NumericSpec {
  readonly default: number | undefined;
  readonly min: number;
  readonly max?: number;
}

/** Each numeric option: its default and the range it must be in. */
export const NUMERIC_OPTIONS: Record<NumericOption, NumericSpec> = {
  redisShards: { default: 8, min: 1, max: MAX_SHARDS },
  redisWaitReplicas: { default: 0, min: 0 },
  heartbeatMs: { default: 15_000, min: 10 },
  retryMs: { default: 3_000, min: 0 },
  historyMaxLength: { default: 10_000, min: 1 },
  historyMaxBytes: { default: 64 * 1024 * 1024, min: 1024 },
  historyMaxAgeMs: { default: undefined, min: 10 },
  presenceTtlMs: { default: 30_000, min: 30 },
  revocationTtlMs: { default: 24 * 60 * 60 * 1000, min: 1, max: MAX_TIMER_MS },
  membershipTtlMs: { default: 24 * 60 * 60_000, min: 1_000 },
  publishTimeoutMs: { default: 5_000, min: 1 },
  readerIdleMs: { default: 5_000, min: 0 },
  maxBufferedBytes: { default: 1024 * 1024, min: 1024 },
  maxConnections: { default: 10_000, min: 1 },
  maxStreamsPerClient: { default: 100, min: 0 },
  maxMessageBytes: { default: 64 * 1024, min: 1 },
  maxRecipients: { default: 1_000, min: 1 },
  maxTopicsPerClient: { default: 1_000, min: 1 },
  maxBatch: { default: 1_000, min: 1 },
  idempotencyWindowMs: { default: 10 * 60_000, min: 1 },
  idempotencyMaxKeys: { default: 100_000, min: 1 },
  reconnectJitterMs: { default: 5_000, min: 0 },
};

/** What a numeric option must be, in words: `a whole number from 1 to 8`. */
export function wholeNumberIn({ min, max }: Pick<NumericSpec, 'min' | 'max'>): string {
  return `a whole number ${max === undefined ? `>= ${min}` : `from ${min} to ${max}`}`;
}

/** The options that are true or false. */
export const BOOLEAN_OPTIONS = [
  'jwtRequireExp',
] as const satisfies readonly (keyof SseBusOptions)[];

/** What each string option must look like, and the words that say so. */
const STRING_OPTIONS: Record<string, [{ test(text: string): boolean }, string]> = {
  redisUrl: [
    { test: isRedisUrl },
    'redis://…, rediss://… or redis-cluster://host:port,host:port,…',
  ],
  // Hash tags and key names: nothing that could end or open one.
  redisKeyPrefix: [/^[\w.:-]{1,64}$/, '1 to 64 of [A-Za-z0-9_.:-]'],
  jwtSecret: [/./, 'a non-empty string'],
  jwtCookie: [/^[\w!#$%&'*+.^`|~-]+$/, 'a cookie name'],
  jwtTopicsClaim: [/^[\x21-\x7e]{1,256}$/, 'a claim name (printable, no spaces)'],
  publishToken: [/./, 'a non-empty string'],
};

/**
 * Applies the defaults and checks every value; a wrong one throws a `ConfigError` naming the
 * option and what it expects.
 */
export function resolveSseBusOptions(options: SseBusOptions = {}): ResolvedSseBusOptions {
  const numbers = {} as Record<NumericOption, number>;
  for (const [key, spec] of Object.entries(NUMERIC_OPTIONS) as [NumericOption, NumericSpec][]) {
    const value = options[key] ?? spec.default;
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < spec.min || value > (spec.max ?? Infinity)) {
      throw new ConfigError(key, `expected ${wholeNumberIn(spec)}, got ${String(value)}`);
    }
    numbers[key] = value;
  }
  // A replay pauses at half the buffer: one message must fit in the other half.
  if (numbers.maxBufferedBytes < 2 * numbers.maxMessageBytes) {
    throw new ConfigError(
      'maxBufferedBytes',
      `expected at least twice maxMessageBytes (${numbers.maxMessageBytes}), got ${numbers.maxBufferedBytes}`,
    );
  }
  for (const [key, [pattern, expected]] of Object.entries(STRING_OPTIONS)) {
    const value: unknown = options[key as keyof SseBusOptions];
    if (value !== undefined && (typeof value !== 'string' || !pattern.test(value))) {
      throw new ConfigError(key, `expected ${expected}, got ${JSON.stringify(value)}`);
    }
  }
  for (const key of BOOLEAN_OPTIONS) {
    const value = options[key];
    if (value !== undefined && typeof value !== 'boolean') {
      throw new ConfigError(key, `expected true or false, got ${JSON.stringify(value)}`);
    }
  }
  return {
    ...numbers,
    redisUrl: options.redisUrl,
    redisKeyPrefix: options.redisKeyPrefix ?? 'sse-bus',
    jwtSecret: options.jwtSecret,
    jwtCookie: options.jwtCookie ?? 'sse_token',
    jwtTopicsClaim: options.jwtTopicsClaim ?? 'topics',
    jwtRequireExp: options.jwtRequireExp ?? true,
    publishToken: options.publishToken,
  };
}
