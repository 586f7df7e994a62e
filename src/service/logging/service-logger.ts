import { type Logger, pino } from 'pino';
import { PinoPretty } from 'pino-pretty';
import type { LogFormat, LogLevel } from '../env.config.js';
import { redactSecrets } from './redact-secrets.js';

/** A request as request lines show it: no headers (`Authorization`, cookies), no URL secret. */
function requestSummary(request: { method: string; url: string; ip?: string }) {
  return { method: request.method, url: redactSecrets(request.url), remoteAddress: request.ip };
}

/** An error as logged, with no URL secret in what it says (a router's error quotes the URL). */
function errorSummary(err: Error) {
  const summary = pino.stdSerializers.err(err);
  return {
    ...summary,
    message: redactSecrets(summary.message),
    stack: redactSecrets(summary.stack),
  };
}

/**
 * The one logger of the service: Nest's logs and Fastify's (its request lines too) all go
 * through it, in one format. JSON has level names and ISO times, so that a line reads without a
 * table. No line carries a token that came in a URL: requests and errors are serialized without
 * it, and a message that quotes a URL is cleaned as it is logged.
 */
export function createServiceLogger(level: LogLevel, format: LogFormat): Logger {
  const options = {
    level,
    formatters: { level: (label: string) => ({ level: label }) },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: { req: requestSummary, err: errorSummary },
    hooks: {
      logMethod(this: Logger, args: unknown[], log: (...args: unknown[]) => void) {
        log.apply(
          this,
          args.map((arg) => (typeof arg === 'string' ? redactSecrets(arg) : arg)),
        );
      },
    },
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
