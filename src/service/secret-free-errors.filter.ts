import { type ArgumentsHost, Catch, HttpException } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { redactSecrets } from './logging/redact-secrets.js';

/**
 * Answers HTTP errors as Nest would, without a token that came in the URL: the router's 404 says
 * `Cannot GET <url>`, query and all.
 */
@Catch(HttpException)
export class SecretFreeErrorsFilter extends BaseExceptionFilter {
  override catch(exception: HttpException, host: ArgumentsHost): void {
    const body = exception.getResponse();
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const clean = redactSecrets(text);
    if (clean === text) return super.catch(exception, host);
    const cleaned = new HttpException(
      typeof body === 'string' ? clean : (JSON.parse(clean) as object),
      exception.getStatus(),
    );
    super.catch(cleaned, host);
  }
}
