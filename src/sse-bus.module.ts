import { Global, type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { SchedulerRegistry } from '@nestjs/schedule';
import { PublishTokenGuard } from './auth/bearer-token.guard.js';
import { ClientIdentityGuard } from './auth/client-identity.guard.js';
import { BusCounters } from './bus/bus-counters.js';
import { ClientsController } from './clients.controller.js';
import { HistoryRetention } from './bus/history-retention.js';
import { MembershipRetention } from './bus/membership-retention.js';
import { StreamFeeds } from './bus/stream-feed.js';
import { FastifyTokenRoutes, servedByFastify } from './fastify-token-routes.js';
import { JsonBodyMiddleware } from './http/json-body.middleware.js';
import { MessageBus } from './message-bus.js';
import { Presence } from './presence/presence.js';
import { PresenceController } from './presence/presence.controller.js';
import { PublishController } from './publish.controller.js';
import { PublishEndpoint } from './publish-endpoint.js';
import { SseBusConfigurableModule } from './sse-bus.module-definition.js';
import { SSE_BUS_PROVIDERS } from './sse-bus.providers.js';
import { TopicsController } from './topics.controller.js';
import { OwnSseStreams } from './sse/own-sse-streams.js';
import { SseController } from './sse/sse.controller.js';
import { StreamRegistry } from './sse/stream-registry.js';

/**
 * Server-sent events from any instance to browsers: `GET /sse/msg`, `POST /sse/publish`,
 * `POST /sse/clients/:clientId/topics`, `DELETE /sse/clients/:clientId/streams`,
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
  controllers: [
    SseController,
    PublishController,
    TopicsController,
    PresenceController,
    ClientsController,
  ],
  providers: [
    ...SSE_BUS_PROVIDERS,
    BusCounters,
    SchedulerRegistry,
    HistoryRetention,
    MembershipRetention,
    StreamFeeds,
    Presence,
    StreamRegistry,
    OwnSseStreams,
    MessageBus,
    ClientIdentityGuard,
    PublishTokenGuard,
    JsonBodyMiddleware,
    PublishEndpoint,
    FastifyTokenRoutes,
  ],
  exports: [MessageBus, Presence],
})
export class SseBusModule extends SseBusConfigurableModule implements NestModule {
  constructor(private readonly adapterHost: HttpAdapterHost) {
    super();
  }

  /**
   * The token routes' checks, before the body: the token, then (for a body) the media type. On
   * Fastify, `FastifyTokenRoutes` runs them as the routes' own hooks instead.
   */
  configure(consumer: MiddlewareConsumer): void {
    if (servedByFastify(this.adapterHost)) return;
    consumer.apply(PublishTokenGuard).forRoutes(ClientsController);
    consumer
      .apply(PublishTokenGuard, JsonBodyMiddleware)
      .forRoutes(PublishController, TopicsController);
  }
}
