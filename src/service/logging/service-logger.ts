import { type Logger, pino } from 'pino';
import { PinoPretty } from 'pino-pretty';
import type { LogFormat, LogLevel } from '../env.config.js';
import { redactUrl } from './redact-url.js';

/** A request as request lines show it: no headers (`Authorization`, cookies), no URL secret. */
function requestSummary(request: { method: string; url: string; ip?: string }) {
  return { method: request.method, url: redactUrl(request.url), remoteAddress: request.ip };
}

/**
 * The one logger of the service: Nest's logs and Fastify's (its request lines too) all go
 * through it, in one format. JSON has level names and ISO times, so that a line reads without a
 * table.
 */
export function createServiceLogger(level: LogLevel, format: LogFormat): Logger {
  const options = {
    level,
    formatters: { level: (label: string) => ({ level: label }) },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: { req: requestSummary },
  };
  if (format === 'json') return pino(options);
  const pretty = PinoPretty({
    sync: true,
    colorize: process.stdout.isTTY === true,
    singleLine: true,
    ignore: 'pid,hostname,context',
    messageFormat: '{if context}[{context}] {end}{msg}',
  });
  return pino(options, pretty);
}
