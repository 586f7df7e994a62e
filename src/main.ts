import 'reflect-metadata';
import { type LogLevel as NestLogLevel, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { ConfigError, SseBusModule } from './index.js';
import { type ServiceConfig, loadEnvConfig } from './config/env.config.js';
import { requestLogger } from './config/request-logger.js';

const NEST_LEVELS: Record<ServiceConfig['logLevel'], NestLogLevel[]> = {
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  info: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
};

async function main(): Promise<void> {
  const config = loadEnvConfig();
  const app = await NestFactory.create<NestFastifyApplication>(
    SseBusModule.forRoot(config.options),
    new FastifyAdapter({ logger: requestLogger(config.logLevel) }),
    { logger: NEST_LEVELS[config.logLevel], abortOnError: false },
  );
  const { corsOrigins, shutdownMs, redisUrl } = config.options;
  if (corsOrigins.length > 0) {
    app.enableCors({
      origin: corsOrigins,
      credentials: true,
      methods: ['GET', 'POST'],
      allowedHeaders: ['Authorization', 'Content-Type', 'Last-Event-ID'],
    });
  }
  const logger = new Logger('sse-bus');
  const shutdown = async (signal: string) => {
    logger.log(`${signal}: shutting down`);
    // The hooks end streams, let publishes finish and close Redis; should anything hang, the
    // deadline still holds.
    setTimeout(() => {
      logger.warn(`Shutdown took longer than ${shutdownMs} ms; exiting`);
      process.exit(0);
    }, shutdownMs).unref();
    await app.close().then(
      () => logger.log('Shut down'),
      (err: Error) => logger.error(`Shutdown failed: ${err.message}`),
    );
    process.exit(0);
  };
  process.once('SIGTERM', shutdown).once('SIGINT', shutdown);
  await app.listen(config.port, config.host);
  logger.log(`Listening on ${await app.getUrl()} (${redisUrl ? 'Redis' : 'embedded bus'})`);
}

main().catch((err: Error) => {
  // One line, naming what is wrong: a bad variable, or what failed at start-up.
  console.error(
    err instanceof ConfigError ? err.message : `sse-bus failed to start: ${err.message}`,
  );
  process.exit(1);
});
