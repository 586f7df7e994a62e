import { Global, Module } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { ClientIdentityGuard } from './auth/client-identity.guard.js';
import { PublishTokenGuard } from './auth/publish-token.guard.js';
import { BusTransport } from './bus/bus-transport.js';
import { ClientRouter } from './bus/client-router.js';
import { HistoryRetention } from './bus/history-retention.js';
import { MessageBus } from './bus/message-bus.js';
import { SSE_BUS_OPTIONS } from './bus/sse-bus.constants.js';
import { MemoryTransport } from './bus/transports/memory.transport.js';
import { isClusterUrl } from './bus/transports/redis-connection.js';
import { RedisTransport } from './bus/transports/redis.transport.js';
import { ShardedRedisTransport } from './bus/transports/sharded-redis.transport.js';
import {
  type ResolvedSseBusOptions,
  type SseBusOptions,
  resolveSseBusOptions,
} from './config/sse-bus.options.js';
import { BusMetrics } from './metrics/bus-metrics.js';
import { MemoryPresenceStore } from './presence/memory-presence.store.js';
import { Presence } from './presence/presence.js';
import { PresenceController } from './presence/presence.controller.js';
import { PresenceStore } from './presence/presence-store.js';
import { RedisPresenceStore } from './presence/redis-presence.store.js';
import { SSE_BUS_MODULE_OPTIONS, SseBusConfigurableModule } from './sse-bus.module-definition.js';
import { Heartbeat } from './sse/heartbeat.js';
import { PublishController } from './sse/publish.controller.js';
import { SseController } from './sse/sse.controller.js';
import { SseStreamService } from './sse/sse-stream.service.js';

/** How long the Redis reader blocks in one `XREAD`, and how long any command may take. */
const REDIS_BLOCK_MS = 2_000;
const REDIS_COMMAND_TIMEOUT_MS = 3_000;

function createTransport(options: ResolvedSseBusOptions, metrics: BusMetrics): BusTransport {
  if (!options.redisUrl) {
    return new MemoryTransport(options.historyMaxLength, options.historyMaxBytes);
  }
  if (isClusterUrl(options.redisUrl)) {
    return new ShardedRedisTransport({
      url: options.redisUrl,
      keyPrefix: options.redisKeyPrefix,
      maxLength: options.historyMaxLength,
      shards: options.redisShards,
      waitReplicas: options.redisWaitReplicas,
      pingMs: REDIS_BLOCK_MS,
      commandTimeoutMs: REDIS_COMMAND_TIMEOUT_MS,
      metrics,
    });
  }
  return new RedisTransport({
    url: options.redisUrl,
    keyPrefix: options.redisKeyPrefix,
    maxLength: options.historyMaxLength,
    recentMaxBytes: options.historyMaxBytes,
    blockMs: REDIS_BLOCK_MS,
    commandTimeoutMs: REDIS_COMMAND_TIMEOUT_MS,
    metrics,
  });
}

function createPresenceStore(
  options: ResolvedSseBusOptions,
  router: ClientRouter,
  registry: SchedulerRegistry,
): PresenceStore {
  if (!options.redisUrl) return new MemoryPresenceStore(router);
  return new RedisPresenceStore(router, registry, {
    url: options.redisUrl,
    keyPrefix: options.redisKeyPrefix,
    ttlMs: options.presenceTtlMs,
    commandTimeoutMs: REDIS_COMMAND_TIMEOUT_MS,
  });
}

/**
 * Server-sent events from any instance to browsers: `GET /sse/msg`, `POST /sse/publish`,
 * `GET /sse/presence`, and `MessageBus` and `Presence`, injectable everywhere (the module is
 * global).
 *
 * `SseBusModule.forRoot({ redisUrl })` or `SseBusModule.forRootAsync({ useFactory, inject })`;
 * with `metrics: true` (or `{ token }`) beside them, `GET /metrics` too.
 *
 * Its periodic jobs go in a `SchedulerRegistry` of its own rather than through
 * `ScheduleModule.forRoot()`: that module is global and scans every provider of the app for
 * `@Interval()` and `@Cron()`, so an app that imports it too would get two of it, and each of
 * its own jobs would run twice. The app's `ScheduleModule`, if any, is left alone.
 */
@Global()
@Module({
  controllers: [SseController, PublishController, PresenceController],
  providers: [
    {
      provide: SSE_BUS_OPTIONS,
      useFactory: (options: SseBusOptions) => resolveSseBusOptions(options),
      inject: [SSE_BUS_MODULE_OPTIONS],
    },
    BusMetrics,
    { provide: BusTransport, useFactory: createTransport, inject: [SSE_BUS_OPTIONS, BusMetrics] },
    {
      provide: ClientRouter,
      useFactory: (transport: BusTransport, metrics: BusMetrics) =>
        new ClientRouter(transport.events$, metrics),
      inject: [BusTransport, BusMetrics],
    },
    SchedulerRegistry,
    HistoryRetention,
    {
      provide: PresenceStore,
      useFactory: createPresenceStore,
      inject: [SSE_BUS_OPTIONS, ClientRouter, SchedulerRegistry],
    },
    Presence,
    MessageBus,
    Heartbeat,
    SseStreamService,
    ClientIdentityGuard,
    PublishTokenGuard,
  ],
  exports: [MessageBus, Presence],
})
export class SseBusModule extends SseBusConfigurableModule {}
