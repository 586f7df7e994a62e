import type { IncomingHttpHeaders } from 'node:http';
import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  NotFoundException,
  UnauthorizedException,
} from '@nestjs/common';
import { SSE_BUS_OPTIONS } from '../bus/sse-bus.constants.js';
import type { ResolvedSseBusOptions } from '../config/sse-bus.options.js';
import { bearerToken } from './request-token.js';
import { SecretToken } from './secret-token.js';

/** Lets through requests bearing the publish token; without a configured token the route is off. */
@Injectable()
export class PublishTokenGuard implements CanActivate {
  private readonly expected: SecretToken | undefined;

  constructor(@Inject(SSE_BUS_OPTIONS) options: ResolvedSseBusOptions) {
    this.expected =
      options.publishToken === undefined ? undefined : new SecretToken(options.publishToken);
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context
      .switchToHttp()
      .getRequest<{ headers: IncomingHttpHeaders; method: string; url: string }>();
    if (!this.expected) throw new NotFoundException(`Cannot ${request.method} ${request.url}`);
    if (!this.expected.matches(bearerToken(request.headers))) {
      throw new UnauthorizedException(
        'A valid publish token is required: Authorization: Bearer <token>',
      );
    }
    return true;
  }
}
