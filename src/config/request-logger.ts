import type { FastifyServerOptions } from 'fastify';
import type { LogLevel } from './env.config.js';

/** Query parameters whose values never reach a log line. */
const SECRET_PARAMS = /([?&](?:token|access_token)=)[^&#]*/gi;

export function redactUrl(url: string): string {
  return url.replace(SECRET_PARAMS, '$1[redacted]');
}

/**
 * Fastify's request log, with tokens given in the query string redacted: Fastify logs whole URLs,
 * and EventSource can only send a token that way.
 */
export function requestLogger(level: LogLevel): FastifyServerOptions['logger'] {
  return {
    level,
    serializers: {
      req: (request: { method: string; url: string; ip?: string }) => ({
        method: request.method,
        url: redactUrl(request.url),
        remoteAddress: request.ip,
      }),
    },
  };
}
