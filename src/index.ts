export { SseBusModule } from './sse-bus.module.js';
export type { SseBusModuleExtras } from './sse-bus.module-definition.js';
export type { SseBusMetricsOptions } from './metrics/metrics.options.js';
export { SseBusHealthIndicator } from './health/sse-bus.health.js';
export { MessageBus, type StreamOptions } from './bus/message-bus.js';
export type { StreamRequest } from './sse/stream-request.js';
export type { PublishOptions } from './bus/message-validation.js';
export type { Audience, BusEvent, BusMessage, BusReset, ResetReason } from './bus/bus-event.js';
export type { TransportHealth } from './bus/bus-transport.js';
export {
  BusUnavailableError,
  InvalidMessageError,
  MessageTooLargeError,
  SseBusError,
} from './bus/errors/index.js';
export type { SseBusOptions, ResolvedSseBusOptions } from './config/sse-bus.options.js';
export { resolveSseBusOptions } from './config/sse-bus.options.js';
export { ConfigError } from './config/config.error.js';
export { type ServiceConfig, loadEnvConfig } from './config/env.config.js';
export { SseStreamService } from './sse/sse-stream.service.js';
export { encodeSseFields, SseFrame, type SseFields } from './sse/sse-frame.js';
