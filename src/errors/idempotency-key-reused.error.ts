import { SseBusError } from './sse-bus.error.js';

/**
 * A publish repeated an idempotency key seen within the window with another message: it is
 * neither delivered nor taken for the first one.
 */
export class IdempotencyKeyReusedError extends SseBusError {
  constructor() {
    super('This idempotency key was used within the window for a different message');
  }
}
