import { type DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
import { SseBusHealthIndicator } from '../health/sse-bus.health.js';
import { SseBusModule } from '../sse-bus.module.js';
import { DemoModule } from './demo/demo.module.js';
import type { ServiceConfig } from './env.config.js';
import { HealthController } from './health.controller.js';

/**
 * The runnable service: the bus, with health checks, metrics, one logger for everything, and the
 * demo page.
 */
@Module({})
export class ServiceModule {
  static forRoot(config: ServiceConfig, logger: Logger): DynamicModule {
    return {
      module: ServiceModule,
      imports: [
        // Nest logs through `logger`. No routes: the request's id is bound to what Nest logs
        // while handling it by a Fastify hook (`bindRequestLoggers`), not by this module's
        // middleware, whose mere presence costs every request.
        LoggerModule.forRoot({ pinoHttp: { logger }, useExisting: true, forRoutes: [] }),
        SseBusModule.forRoot({ ...config.options, metrics: config.metrics }),
        // The bus logs when it stops and starts reading; a line per failed probe would repeat it.
        TerminusModule.forRoot({ logger: false }),
        ...(config.demo ? [DemoModule.forRoot(config.options.publishToken !== undefined)] : []),
      ],
      controllers: [HealthController],
      providers: [SseBusHealthIndicator],
    };
  }
}
