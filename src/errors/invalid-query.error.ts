import { SseBusError } from './sse-bus.error.js';

/**
 * A presence query was given a client id, topic or limit it cannot be about: the message says
 * what.
 */
export class InvalidQueryError extends SseBusError {}
