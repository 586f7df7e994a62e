export { SseBusModule } from './sse-bus.module.js';
export type { SseBusModuleExtras } from './sse-bus.module-definition.js';
export type { SseBusMetricsOptions } from './metrics/metrics.options.js';
// The health indicator is `sse-bus/health`: it needs @nestjs/terminus, which apps may not have.
export { MessageBus, type StreamOptions } from './bus/message-bus.js';
export type { StreamRequest } from './sse/stream-request.js';
export { Presence } from './presence/presence.js';
export type { ClientPresence, PresenceCount } from './presence/presence-store.js';
export type { PublishOptions } from './bus/message-validation.js';
export type { Audience, BusEvent, BusMessage, BusReset, ResetReason } from './bus/bus-event.js';
export type { TransportHealth } from './bus/bus-transport.js';
export {
  BusUnavailableError,
  InvalidMessageError,
  InvalidQueryError,
  MessageTooLargeError,
  SseBusError,
} from './bus/errors/index.js';
export type { SseBusOptions, ResolvedSseBusOptions } from './config/sse-bus.options.js';
// forRoot() and forRootAsync() throw it for a wrong option: an app meets it at start-up.
export { ConfigError } from './config/config.error.js';
