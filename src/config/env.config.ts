import type { SseBusMetricsOptions } from '../metrics/metrics.options.js';
import { ConfigError } from './config.error.js';
import {
  NUMERIC_OPTIONS,
  isRedisUrl,
  type ResolvedSseBusOptions,
  type SseBusOptions,
  resolveSseBusOptions,
} from './sse-bus.options.js';

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

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
      throw new ConfigError(`${name}: expected one of ${allowed.join(', ')}, got "${text}"`);
    }
    return text as T;
  };
  const flag = (name: string) => oneOf(name, ['true', 'false'], 'true') === 'true';
  const whole = (name: string, min: number, max = Number.MAX_SAFE_INTEGER) => {
    const text = value(name);
    if (text === undefined) return undefined;
    const number = /^\d{1,15}$/.test(text.trim()) ? Number(text) : NaN;
    if (!(number >= min && number <= max)) {
      const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
      throw new ConfigError(`${name}: expected a whole number ${range}, got "${text}"`);
    }
    return number;
  };

  const options: SseBusOptions = {
    redisUrl: value('REDIS_URL'),
    redisKeyPrefix: value('SSE_REDIS_PREFIX'),
    jwtSecret: value('SSE_JWT_SECRET'),
    jwtCookie: value('SSE_JWT_COOKIE'),
    jwtTopicsClaim: value('SSE_JWT_TOPICS_CLAIM'),
    publishToken: value('SSE_PUBLISH_TOKEN'),
    corsOrigins: origins(value('SSE_CORS_ORIGINS')),
  };
  for (const [key, spec] of Object.entries(NUMERIC_OPTIONS)) {
    options[key as keyof typeof NUMERIC_OPTIONS] = whole(spec.env, spec.min, spec.max);
  }
  if (options.redisUrl !== undefined && !isRedisUrl(options.redisUrl)) {
    throw new ConfigError(
      `REDIS_URL: expected redis://host:port or redis-cluster://host:port,host:port,…, got "${options.redisUrl}"`,
    );
  }
  if (options.jwtCookie !== undefined && !/^[\w!#$%&'*+.^`|~-]+$/.test(options.jwtCookie)) {
    throw new ConfigError(`SSE_JWT_COOKIE: expected a cookie name, got "${options.jwtCookie}"`);
  }
  if (
    options.jwtTopicsClaim !== undefined &&
    !/^[\x21-\x7e]{1,256}$/.test(options.jwtTopicsClaim)
  ) {
    throw new ConfigError(
      `SSE_JWT_TOPICS_CLAIM: expected a claim name (printable, no spaces), got "${options.jwtTopicsClaim}"`,
    );
  }
  if (options.redisKeyPrefix !== undefined && !/^[\w.:-]{1,64}$/.test(options.redisKeyPrefix)) {
    throw new ConfigError(
      `SSE_REDIS_PREFIX: expected 1 to 64 of [A-Za-z0-9_.:-], got "${options.redisKeyPrefix}"`,
    );
  }
  return {
    port: whole('PORT', 0, 65535) ?? 3000,
    host: value('HOST') ?? '0.0.0.0',
    logLevel: oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    logFormat: oneOf('LOG_FORMAT', LOG_FORMATS, stdoutIsTerminal ? 'pretty' : 'json'),
    metrics: flag('SSE_METRICS') && { token: value('SSE_METRICS_TOKEN') },
    demo: flag('SSE_DEMO'),
    options: resolveSseBusOptions(options, 'env'),
  };
}

function origins(list: string | undefined): string[] | undefined {
  if (list === undefined) return undefined;
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
        `SSE_CORS_ORIGINS: expected comma-separated origins like https://app.example.com, got "${origin}"`,
      );
    }
    return origin;
  });
}
