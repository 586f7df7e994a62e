import type { IncomingMessage } from 'node:http';
import { type ArgumentsHost, Catch, HttpException, Logger } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { redactSecrets } from './logging/redact-secrets.js';

/**
 * Answers errors as Nest would, with two exceptions. A client that went away mid-request is one
 * line at debug, not an `error` with a stack: it is the client's doing, and nobody should be
 * woken for it. An HTTP error's answer holds no token that came in the URL: the router's 404
 * says `Cannot GET <url>`, query and all.
 */
@Catch()
export class ServiceErrorsFilter extends BaseExceptionFilter {
  private readonly logger = new Logger('HTTP');

  override catch(exception: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<IncomingMessage | { raw: IncomingMessage }>();
    const raw = 'raw' in request ? request.raw : request;
    if (wentAway(exception, raw)) {
      const path = (raw.url ?? '').split(/[?#;]/, 1)[0];
      this.logger.debug(`${raw.method} ${path}: the client went away mid-request`);
      return;
    }
    if (!(exception instanceof HttpException)) return super.catch(exception, host);
    const body = exception.getResponse();
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const clean = redactSecrets(text);
    if (clean === text) return super.catch(exception, host);
    const cleaned = typeof body === 'string' ? clean : (JSON.parse(clean) as object);
    super.catch(new HttpException(cleaned, exception.getStatus()), host);
  }
}

/** Node's `aborted`: the connection closed before the request was all in. */
function wentAway(exception: unknown, request: IncomingMessage): boolean {
  const code = (exception as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNRESET' && request.socket.destroyed;
}
