import { SseBusError } from './sse-bus.error.js';

/** The log could not take the message in time. It may still be delivered, but was not promised. */
export class BusUnavailableError extends SseBusError {}
