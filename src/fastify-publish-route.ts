import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { PublishTokenGuard } from './auth/bearer-token.guard.js';
import { PublishEndpoint } from './publish-endpoint.js';
import { JsonBodyMiddleware } from './http/json-body.middleware.js';

/** `@nestjs/platform-fastify`'s key of a route's Fastify config (`@RouteConfig()`). */
const FASTIFY_ROUTE_CONFIG = '__fastify_route_config__';
const MARK = 'sseBusPublish';

/** The metadata that marks the publish handler for `FastifyPublishRoute` (`@RouteConfig()`'s). */
export const PUBLISH_ROUTE_CONFIG = [FASTIFY_ROUTE_CONFIG, { [MARK]: true }] as const;

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
 * On Fastify, serves `POST /sse/publish` straight from Fastify's route, not through Nest's
 * pipeline: middleware run through `middie`, then the router's guards, interceptors, pipes and
 * filters, each adding to every publish what a whole bare Fastify request costs. The route stays
 * Nest's, with its path, prefix and version; as it is added, its handler becomes
 * `PublishEndpoint`'s, and the token and media-type checks become its `onRequest` hooks (before
 * the body, as the middleware were). Their errors go to Nest's exception handling, as before.
 * Elsewhere (Express) it does nothing, and the controller serves the route.
 */
@Injectable()
export class FastifyPublishRoute {
  constructor(
    adapterHost: HttpAdapterHost,
    endpoint: PublishEndpoint,
    @Inject(PublishTokenGuard) token: NestMiddleware,
    media: JsonBodyMiddleware,
  ) {
    if (!servedByFastify(adapterHost)) return;
    const checks = [token, media].map((middleware): Hook => (request, _reply, done) => {
      try {
        middleware.use(request.raw, undefined, done);
      } catch (err) {
        done(err);
      }
    });
    (adapterHost.httpAdapter.getInstance() as FastifyLike).addHook('onRoute', (route) => {
      if (route.config?.[MARK] !== true) return;
      route.onRequest = [...[route.onRequest ?? []].flat(), ...checks];
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

/** Whether `FastifyPublishRoute` serves the route: Nest's middleware must then stay off it. */
export function servedByFastify(adapterHost: HttpAdapterHost): boolean {
  const adapter = adapterHost.httpAdapter as HttpAdapterHost['httpAdapter'] | undefined;
  return adapter?.getType() === 'fastify';
}
