export { SseBusModule } from './sse-bus.module.js';
export type { SseBusModuleExtras } from './sse-bus.module-definition.js';
export type { SseBusMetricsOptions } from './metrics/metrics.options.js';
// The health indicator is `sse-bus/health`: it needs @nestjs/terminus, which apps may not have.
export { MessageBus } from './message-bus.js';
export type { StreamOptions } from './sse/own-sse-streams.js';
export type { StreamRequest } from './http/platform.js';
export { Presence } from './presence/presence.js';
export type { ClientPresence, PresenceCount } from './presence/presence-store.js';
export type { PublishOptions } from './bus/message-validation.js';
export type { DisconnectOptions } from './bus/disconnect-options.js';
export type {
  EventData,
  EventName,
  TypedPublishOptions,
  TypedStreamOptions,
} from './typed-events.js';
export type { PublishMessage, PublishResult } from './bus/publish-message.js';
export type { Audience, BusEvent, BusMessage, BusReset, ResetReason } from './bus/bus-event.js';
export type { TransportHealth } from './bus/bus-transport.js';
export { SseBusError } from './errors/sse-bus.error.js';
export { BusUnavailableError } from './errors/bus-unavailable.error.js';
export { InvalidMessageError } from './errors/invalid-message.error.js';
export { InvalidQueryError } from './errors/invalid-query.error.js';
export { MessageTooLargeError } from './errors/message-too-large.error.js';
export { TooManyRecipientsError } from './errors/too-many-recipients.error.js';
export { TooManyMessagesError } from './errors/too-many-messages.error.js';
export { TooManyTopicsError } from './errors/too-many-topics.error.js';
export { IdempotencyKeyReusedError } from './errors/idempotency-key-reused.error.js';
export type { SseBusOptions, ResolvedSseBusOptions } from './config/sse-bus.options.js';
// forRoot() and forRootAsync() throw it for a wrong option: an app meets it at start-up.
export { ConfigError } from './config/config.error.js';
