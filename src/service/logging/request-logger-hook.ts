import type { FastifyInstance } from 'fastify';
import type { PinoLogger } from 'nestjs-pino';

/**
 * What Nest logs while handling a GET carries the request's id, as with nestjs-pino's
 * middleware, but bound in a Fastify `onRequest` hook: any Nest middleware puts every request of
 * the app, publishes too, through `@fastify/middie`, a seventh of a publish's CPU. GETs only, as
 * the middleware were: the one POST, a publish, logs nothing while it is handled. The request is
 * handled within `done`, in the context bound here.
 */
export function bindRequestLoggers(fastify: FastifyInstance, logger: PinoLogger): void {
  fastify.addHook('onRequest', (request, _reply, done) => {
    if (request.method !== 'GET') return done();
    logger.runInContext(done, { bindings: { reqId: request.id } });
  });
}
