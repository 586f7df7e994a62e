import { type INestApplication, Logger } from '@nestjs/common';

/**
 * On SIGTERM or SIGINT, closes `app` and exits 0. Its hooks end streams, let publishes finish
 * and close Redis; should anything hang, the process still exits after `shutdownMs`.
 */
export function closeOnSignals(app: INestApplication, shutdownMs: number): void {
  const logger = new Logger('sse-bus');
  const shutdown = async (signal: string) => {
    logger.log(`${signal}: shutting down`);
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
}
