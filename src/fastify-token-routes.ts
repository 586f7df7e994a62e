import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { PublishTokenGuard } from './auth/bearer-token.guard.js';
import { PublishEndpoint } from './publish-endpoint.js';
import { JsonBodyMiddleware } from './http/json-body.middleware.js';

/** `@nestjs/platform-fastify`'s key of a route's Fastify config (`@RouteConfig()`). */
const FASTIFY_ROUTE_CONFIG = '__fastify_route_config__';
const MARK = 'sseBusRoute';

/** The metadata that marks the publish handler for `FastifyTokenRoutes` (`@RouteConfig()`'s). */
export const PUBLISH_ROUTE_CONFIG = [FASTIFY_ROUTE_CONFIG, { [MARK]: 'publish' }] as const;
/** The metadata that marks a handler behind the publish token, with no body to check. */
export const TOKEN_ROUTE_CONFIG = [FASTIFY_ROUTE_CONFIG, { [MARK]: 'token' }] as const;
/** The metadata that marks a handler behind the publish token that takes a JSON body. */
export const JSON_TOKEN_ROUTE_CONFIG = [FASTIFY_ROUTE_CONFIG, { [MARK]: 'json' }] as const;

/** The parts of Fastify this touches: typed here, as the platform is an optional peer. */
interface FastifyRequestLike {
  readonly raw: Parameters<NestMiddleware['use']>[0];
  readonly body: unknown;
  readonly headers: Record<string, string | string[] | undefined>;
}
interface FastifyReplyLike {
  code(status: number): FastifyReplyLike;
  header(name: string, value: string): FastifyReplyLike;
  send(body: object): FastifyReplyLike;
}
type Hook = (request: FastifyRequestLike, reply: unknown, done: (err?: unknown) => void) => void;
interface RouteOptionsLike {
  config?: Record<string, unknown>;
  onRequest?: Hook | Hook[];
  handler: (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<unknown>;
}
interface FastifyLike {
  addHook(name: 'onRoute', hook: (route: RouteOptionsLike) => void): void;
}

/**
 * On Fastify, checks the token routes in Fastify's `onRequest` hooks rather than as Nest
 * middleware, and serves `POST /sse/publish` straight from Fastify's route, not through Nest's
 * pipeline. Any Nest middleware at all puts every request of the app through `@fastify/middie`,
 * and the router's guards, interceptors, pipes and filters add to every publish what a whole bare
 * Fastify request costs. The routes stay Nest's, with their paths, prefix and version; as one is
 * added, the token check (and for a publish, the media type's) becomes its `onRequest` hook
 * (before the body, as the middleware were), and the publish route's handler becomes
 * `PublishEndpoint`'s. The checks' errors go to Nest's exception handling, as before. Elsewhere
 * (Express) it does nothing: the module's middleware check, and the controllers serve.
 */
@Injectable()
export class FastifyTokenRoutes {
  constructor(
    adapterHost: HttpAdapterHost,
    endpoint: PublishEndpoint,
    @Inject(PublishTokenGuard) token: NestMiddleware,
    media: JsonBodyMiddleware,
  ) {
    if (!servedByFastify(adapterHost)) return;
    const [tokenCheck, mediaCheck] = [token, media].map(
      (middleware): Hook =>
        (request, _reply, done) => {
          try {
            middleware.use(request.raw, undefined, done);
          } catch (err) {
            done(err);
          }
        },
    );
    (adapterHost.httpAdapter.getInstance() as FastifyLike).addHook('onRoute', (route) => {
      const mark = route.config?.[MARK];
      if (mark !== 'publish' && mark !== 'token' && mark !== 'json') return;
      const checks = mark === 'token' ? [tokenCheck] : [tokenCheck, mediaCheck];
      route.onRequest = [...[route.onRequest ?? []].flat(), ...checks];
      if (mark !== 'publish') return;
      route.handler = async (request, reply) => {
        const key = request.headers['idempotency-key'];
        const answer = await endpoint.answer(
          request.body,
          typeof key === 'string' ? key : undefined,
        );
        if (answer.retryAfter) reply.header('retry-after', String(answer.retryAfter));
        return reply.code(answer.status).send(answer.body);
      };
    });
  }
}

/** Whether `FastifyTokenRoutes` checks the routes: Nest's middleware must then stay off them. */
export function servedByFastify(adapterHost: HttpAdapterHost): boolean {
  const adapter = adapterHost.httpAdapter as HttpAdapterHost['httpAdapter'] | undefined;
  return adapter?.getType() === 'fastify';
}
