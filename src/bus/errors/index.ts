export { BusUnavailableError } from './bus-unavailable.error.js';
export { InvalidMessageError } from './invalid-message.error.js';
export { InvalidQueryError } from './invalid-query.error.js';
export { MessageTooLargeError } from './message-too-large.error.js';
export { SseBusError } from './sse-bus.error.js';
