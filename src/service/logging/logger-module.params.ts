import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import type { Logger } from 'pino';

/**
 * `nestjs-pino`'s settings: Nest logs through `logger`, and what it logs while handling a request
 * carries the request's id, from the request logger Fastify made of `logger` (`useExisting`).
 * Fastify writes the request lines.
 */
export function loggerModuleParams(logger: Logger): Params {
  return {
    pinoHttp: { logger },
    useExisting: true,
    // The module's default routes (`{/*splat}`) match no request on this Fastify adapter.
    forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }],
  };
}
