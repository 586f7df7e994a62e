import { type DynamicModule, Module, RequestMethod } from '@nestjs/common';
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
        // Nest logs through `logger`, and what it logs while handling a request carries the
        // request's id, from the request logger Fastify made of it (`useExisting`). The module's
        // default routes (`{/*splat}`) match no request on the Fastify adapter. GETs only: the one
        // POST, a publish, logs nothing while it is handled, and running Nest's middleware to bind
        // its logger cost a tenth of a publish's CPU.
        LoggerModule.forRoot({
          pinoHttp: { logger },
          useExisting: true,
          forRoutes: [{ path: '{*path}', method: RequestMethod.GET }],
        }),
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
