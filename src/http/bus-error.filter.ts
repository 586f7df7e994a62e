import { type ArgumentsHost, Catch } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { BusUnavailableError } from '../errors/bus-unavailable.error.js';
import { SseBusError } from '../errors/sse-bus.error.js';
import { RETRY_AFTER_SECONDS, httpErrorOf } from './http-error-of.js';

/**
 * The bus's errors as HTTP answers (see `httpErrorOf`), for the module's routes, with
 * `Retry-After` on a 503. Other errors go to Nest's own handling.
 */
@Catch(SseBusError)
export class BusErrorFilter extends BaseExceptionFilter {
  override catch(err: SseBusError, host: ArgumentsHost): void {
    if (err instanceof BusUnavailableError) {
      const adapter = this.applicationRef ?? this.httpAdapterHost!.httpAdapter;
      const response: unknown = host.switchToHttp().getResponse();
      adapter.setHeader(response, 'Retry-After', String(RETRY_AFTER_SECONDS));
    }
    super.catch(httpErrorOf(err), host);
  }
}
