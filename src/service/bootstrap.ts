import { Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger, PinoLogger } from 'nestjs-pino';
import { closeOnSignals } from './close-on-signals.js';
import type { ServiceConfig } from './env.config.js';
import { fastifyOptions } from './fastify-options.js';
import { ServiceErrorsFilter } from './service-errors.filter.js';
import { bindRequestLoggers } from './logging/request-logger-hook.js';
import { createServiceLogger } from './logging/service-logger.js';
import { ServiceModule } from './service.module.js';

/** Starts the service as `config` says, on Fastify, and runs it until a signal closes it. */
export async function bootstrap(config: ServiceConfig): Promise<void> {
  const logger = createServiceLogger(config.logLevel, config.logFormat);
  const app = await NestFactory.create<NestFastifyApplication>(
    ServiceModule.forRoot(config, logger),
    new FastifyAdapter(fastifyOptions(config, logger)),
    // Fastify's own JSON parser, as the bare route has it: Nest's wraps it, and makes a new one
    // for each request. The service takes JSON bodies only.
    { bufferLogs: true, abortOnError: false, bodyParser: false },
  );
  app.useLogger(app.get(Logger));
  bindRequestLoggers(app.getHttpAdapter().getInstance(), await app.resolve(PinoLogger));
  app.useGlobalFilters(new ServiceErrorsFilter(app.getHttpAdapter()));
  const { corsOrigins, shutdownMs } = config;
  if (corsOrigins.length > 0) {
    app.enableCors({
      origin: [...corsOrigins],
      credentials: true,
      methods: ['GET', 'POST'],
      allowedHeaders: ['Authorization', 'Content-Type', 'Last-Event-ID'],
    });
  }
  closeOnSignals(app, shutdownMs);
  await app.listen(config.port, config.host);
  new NestLogger('sse-bus').log(
    `Listening on ${await app.getUrl()} (${config.options.redisUrl ? 'Redis' : 'embedded bus'})`,
  );
}
