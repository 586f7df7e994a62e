import { SseBusError } from './sse-bus.error.js';

/** `publish()` was given something it cannot send: the message says what. */
export class InvalidMessageError extends SseBusError {}
