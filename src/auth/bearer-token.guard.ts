import type { IncomingHttpHeaders } from 'node:http';
import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  type InjectionToken,
  type NestMiddleware,
  NotFoundException,
  type Type,
  UnauthorizedException,
  mixin,
} from '@nestjs/common';
import { type ResolvedSseBusOptions, SSE_BUS_OPTIONS } from '../config/sse-bus.options.js';
import { bearerToken } from './request-token.js';
import { SecretToken } from './secret-token.js';

/** What a route behind a token does when none is configured: it is not there (404), or open. */
export type WithoutToken = 'not-found' | 'open';

/** What the check reads of a request: Node's own (a middleware's) or the framework's (a guard's). */
interface TokenRequest {
  readonly headers: IncomingHttpHeaders;
  readonly method?: string;
  readonly url?: string;
  /** The whole of `url`, where a middleware mounted on a path is given the rest of it. */
  readonly originalUrl?: string;
}

/**
 * A guard that lets through the requests whose `Authorization: Bearer` is the token that
 * `tokenOf` reads from the options under `optionsToken`, compared in constant time, and answers
 * 401 to others. `name` says which token in the answer: `publish`, `metrics`.
 *
 * It is a middleware too, for routes with a body: guards run once the body has been read and
 * parsed, a middleware (on Fastify, an `onRequest` hook) before, so that a stranger's body costs
 * nothing.
 */
export function BearerTokenGuard<Options>(
  optionsToken: InjectionToken,
  tokenOf: (options: Options) => string | undefined,
  withoutToken: WithoutToken,
  name: string,
): Type<CanActivate> {
  @Injectable()
  class Guard implements CanActivate, NestMiddleware {
    private readonly expected: SecretToken | undefined;

    constructor(@Inject(optionsToken) options: Options) {
      const token = tokenOf(options);
      this.expected = token === undefined ? undefined : new SecretToken(token);
    }

    canActivate(context: ExecutionContext): boolean {
      return this.check(context.switchToHttp().getRequest<TokenRequest>());
    }

    use(request: TokenRequest, _response: unknown, next: () => void): void {
      this.check(request);
      next();
    }

    private check(request: TokenRequest): boolean {
      if (!this.expected) {
        if (withoutToken === 'open') return true;
        // The path alone: a query may hold a secret, and an answer never echoes one.
        const url = request.originalUrl ?? request.url;
        throw new NotFoundException(`Cannot ${request.method} ${url?.split('?')[0]}`);
      }
      if (!this.expected.matches(bearerToken(request.headers))) {
        throw new UnauthorizedException(
          `A valid ${name} token is required: Authorization: Bearer <token>`,
        );
      }
      return true;
    }
  }
  return mixin(Guard);
}

/** The publish token's (`POST /sse/publish`, `GET /sse/presence`); unset: the routes are off. */
export const PublishTokenGuard = BearerTokenGuard(
  SSE_BUS_OPTIONS,
  (options: ResolvedSseBusOptions) => options.publishToken,
  'not-found',
  'publish',
);
