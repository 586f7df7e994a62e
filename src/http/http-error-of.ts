import {
  BadRequestException,
  ConflictException,
  type HttpException,
  PayloadTooLargeException,
  ServiceUnavailableException,
  UnprocessableEntityException,
} from '@nestjs/common';
import { BusUnavailableError } from '../errors/bus-unavailable.error.js';
import { IdempotencyKeyReusedError } from '../errors/idempotency-key-reused.error.js';
import { MessageTooLargeError } from '../errors/message-too-large.error.js';
import type { SseBusError } from '../errors/sse-bus.error.js';
import { TooManyMessagesError } from '../errors/too-many-messages.error.js';
import { TooManyRecipientsError } from '../errors/too-many-recipients.error.js';
import { TooManyTopicsError } from '../errors/too-many-topics.error.js';

/** Seconds a caller is asked to wait while the bus is unavailable. */
export const RETRY_AFTER_SECONDS = 1;

/**
 * A bus error as an HTTP answer: 503 while the bus is unavailable (to be sent with
 * `Retry-After`), 413 for a message or batch over a limit, 422 for an idempotency key reused for
 * another message, 409 for a change of a client's topics past its limit, 400 for anything else
 * it was given wrong.
 */
export function httpErrorOf(err: SseBusError): HttpException {
  if (err instanceof BusUnavailableError) return new ServiceUnavailableException(err.message);
  if (
    err instanceof MessageTooLargeError ||
    err instanceof TooManyRecipientsError ||
    err instanceof TooManyMessagesError
  ) {
    return new PayloadTooLargeException(err.message);
  }
  if (err instanceof TooManyTopicsError) return new ConflictException(err.message);
  if (err instanceof IdempotencyKeyReusedError) {
    return new UnprocessableEntityException(err.message);
  }
  return new BadRequestException(err.message);
}
