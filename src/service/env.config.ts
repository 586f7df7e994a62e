import { ConfigError } from '../config/config.error.js';
import {
  BOOLEAN_OPTIONS,
  NUMERIC_OPTIONS,
  type NumericOption,
  type NumericSpec,
  type ResolvedSseBusOptions,
  type SseBusOptions,
  resolveSseBusOptions,
  wholeNumberIn,
} from '../config/sse-bus.options.js';
import type { SseBusMetricsOptions } from '../metrics/metrics.options.js';

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** The environment variable of each option of the bus. */
const OPTION_VARIABLES: Record<keyof SseBusOptions, string> = {
  redisUrl: 'REDIS_URL',
  redisShards: 'SSE_REDIS_SHARDS',
  redisWaitReplicas: 'SSE_REDIS_WAIT_REPLICAS',
  redisKeyPrefix: 'SSE_REDIS_PREFIX',
  heartbeatMs: 'SSE_HEARTBEAT_MS',
  retryMs: 'SSE_RETRY_MS',
  jwtSecret: 'SSE_JWT_SECRET',
  jwtCookie: 'SSE_JWT_COOKIE',
  jwtTopicsClaim: 'SSE_JWT_TOPICS_CLAIM',
  jwtRequireExp: 'SSE_JWT_REQUIRE_EXP',
  publishToken: 'SSE_PUBLISH_TOKEN',
  historyMaxLength: 'SSE_HISTORY_MAXLEN',
  historyMaxBytes: 'SSE_HISTORY_MAX_BYTES',
  historyMaxAgeMs: 'SSE_HISTORY_MAX_AGE_MS',
  presenceTtlMs: 'SSE_PRESENCE_TTL_MS',
  revocationTtlMs: 'SSE_REVOCATION_TTL_MS',
  membershipTtlMs: 'SSE_MEMBERSHIP_TTL_MS',
  publishTimeoutMs: 'SSE_PUBLISH_TIMEOUT_MS',
  readerIdleMs: 'SSE_READER_IDLE_MS',
  maxBufferedBytes: 'SSE_MAX_BUFFERED_BYTES',
  maxConnections: 'SSE_MAX_CONNECTIONS',
  maxStreamsPerClient: 'SSE_MAX_STREAMS_PER_CLIENT',
  maxMessageBytes: 'SSE_MAX_MESSAGE_BYTES',
  maxRecipients: 'SSE_MAX_RECIPIENTS',
  maxTopicsPerClient: 'SSE_MAX_TOPICS_PER_CLIENT',
  maxBatch: 'SSE_MAX_BATCH',
  idempotencyWindowMs: 'SSE_IDEMPOTENCY_WINDOW_MS',
  idempotencyMaxKeys: 'SSE_IDEMPOTENCY_MAX_KEYS',
  reconnectJitterMs: 'SSE_RECONNECT_JITTER_MS',
};

/** What the runnable service reads from its environment. */
export interface ServiceConfig {
  readonly port: number;
  readonly host: string;
  readonly logLevel: LogLevel;
  /** One JSON object a line, or text for a person at a terminal. */
  readonly logFormat: LogFormat;
  /** How `GET /metrics` is served; false: it is not. */
  readonly metrics: false | SseBusMetricsOptions;
  /** Whether `GET /` serves the demo page. */
  readonly demo: boolean;
  /** Origins allowed by CORS, with credentials; empty: CORS off. */
  readonly corsOrigins: readonly string[];
  /** Longest a shutdown may take before the process exits anyway. */
  readonly shutdownMs: number;
  /** Longest a request's headers and body may take to come in (a stream's, its headers). */
  readonly requestTimeoutMs: number;
  readonly options: ResolvedSseBusOptions;
}

/**
 * Reads and checks the service's environment. A wrong value throws a `ConfigError` whose message
 * is one line naming the variable and what it expects. Logs are JSON by default, unless
 * `stdoutIsTerminal`.
 */
export function loadEnvConfig(
  env: NodeJS.ProcessEnv = process.env,
  stdoutIsTerminal = process.stdout.isTTY === true,
): ServiceConfig {
  const value = (name: string) => (env[name] === '' ? undefined : env[name]);
  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const text = value(name) ?? fallback;
    if (!(allowed as readonly string[]).includes(text)) {
      throw new ConfigError(name, `expected one of ${allowed.join(', ')}, got "${text}"`);
    }
    return text as T;
  };
  const flag = (name: string) => oneOf(name, ['true', 'false'], 'true') === 'true';
  const optionalFlag = (name: string) => (value(name) === undefined ? undefined : flag(name));
  const whole = (name: string, spec: { min: number; max?: number }) => {
    const text = value(name);
    if (text === undefined) return undefined;
    const number = /^\d{1,15}$/.test(text.trim()) ? Number(text) : NaN;
    if (!(number >= spec.min && number <= (spec.max ?? Infinity))) {
      throw new ConfigError(name, `expected ${wholeNumberIn(spec)}, got "${text}"`);
    }
    return number;
  };

  const options: Record<string, unknown> = {};
  for (const [option, name] of Object.entries(OPTION_VARIABLES)) {
    const spec = NUMERIC_OPTIONS[option as NumericOption] as NumericSpec | undefined;
    const isFlag = (BOOLEAN_OPTIONS as readonly string[]).includes(option);
    options[option] = spec ? whole(name, spec) : isFlag ? optionalFlag(name) : value(name);
  }
  return {
    port: whole('PORT', { min: 0, max: 65535 }) ?? 3000,
    host: value('HOST') ?? '0.0.0.0',
    logLevel: oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    logFormat: oneOf('LOG_FORMAT', LOG_FORMATS, stdoutIsTerminal ? 'pretty' : 'json'),
    metrics: flag('SSE_METRICS') && { token: value('SSE_METRICS_TOKEN') },
    demo: flag('SSE_DEMO'),
    corsOrigins: origins(value('SSE_CORS_ORIGINS')),
    shutdownMs: whole('SSE_SHUTDOWN_MS', { min: 1 }) ?? 10_000,
    requestTimeoutMs: whole('SSE_REQUEST_TIMEOUT_MS', { min: 100 }) ?? 10_000,
    options: byVariable(() => resolveSseBusOptions(options)),
  };
}

/** Runs `resolve`, saying what is wrong by environment variable rather than by option name. */
function byVariable<T>(resolve: () => T): T {
  try {
    return resolve();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const variable = (name: string) => OPTION_VARIABLES[name as keyof SseBusOptions] ?? name;
    throw new ConfigError(variable(err.option), err.problem.replace(/\b[a-z]+[A-Z]\w*/g, variable));
  }
}

function origins(list: string | undefined): string[] {
  if (list === undefined) return [];
  return list.split(',').map((entry) => {
    const origin = entry.trim();
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin) {
      throw new ConfigError(
        'SSE_CORS_ORIGINS',
        `expected comma-separated origins like https://app.example.com, got "${origin}"`,
      );
    }
    return origin;
  });
}
