import {
  type ArgumentsHost,
  BadRequestException,
  Catch,
  type HttpException,
  PayloadTooLargeException,
  ServiceUnavailableException,
  UnprocessableEntityException,
} from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { BusUnavailableError } from '../errors/bus-unavailable.error.js';
import { IdempotencyKeyReusedError } from '../errors/idempotency-key-reused.error.js';
import { MessageTooLargeError } from '../errors/message-too-large.error.js';
import { SseBusError } from '../errors/sse-bus.error.js';
import { TooManyRecipientsError } from '../errors/too-many-recipients.error.js';

/** Seconds a caller is asked to wait while the bus is unavailable. */
const RETRY_AFTER_SECONDS = 1;

/**
 * The bus's errors as HTTP answers, for the module's routes: 503 with `Retry-After` while the bus
 * is unavailable, 413 for a message over the size or recipients limit, 422 for an idempotency
 * key reused for another message, 400 for anything else it was given wrong. Other errors go to
 * Nest's own handling.
 */
@Catch(SseBusError)
export class BusErrorFilter extends BaseExceptionFilter {
  override catch(err: SseBusError, host: ArgumentsHost): void {
    if (err instanceof BusUnavailableError) {
      const adapter = this.applicationRef ?? this.httpAdapterHost!.httpAdapter;
      const response: unknown = host.switchToHttp().getResponse();
      adapter.setHeader(response, 'Retry-After', String(RETRY_AFTER_SECONDS));
    }
    super.catch(answer(err), host);
  }
}

function answer(err: SseBusError): HttpException {
  if (err instanceof BusUnavailableError) return new ServiceUnavailableException(err.message);
  if (err instanceof MessageTooLargeError || err instanceof TooManyRecipientsError) {
    return new PayloadTooLargeException(err.message);
  }
  if (err instanceof IdempotencyKeyReusedError) {
    return new UnprocessableEntityException(err.message);
  }
  return new BadRequestException(err.message);
}
