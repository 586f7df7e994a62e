import { createHash, timingSafeEqual } from 'node:crypto';
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

/** Lets through requests bearing the publish token; without a configured token the route is off. */
@Injectable()
export class PublishTokenGuard implements CanActivate {
  private readonly expected: Buffer | undefined;

  constructor(@Inject(SSE_BUS_OPTIONS) options: ResolvedSseBusOptions) {
    this.expected = options.publishToken === undefined ? undefined : digest(options.publishToken);
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context
      .switchToHttp()
      .getRequest<{ headers: IncomingHttpHeaders; method: string; url: string }>();
    if (!this.expected) throw new NotFoundException(`Cannot ${request.method} ${request.url}`);
    const given = bearerToken(request.headers);
    // Digests have one length, so the comparison takes the same time whatever was given.
    if (given === undefined || !timingSafeEqual(digest(given), this.expected)) {
      throw new UnauthorizedException(
        'A valid publish token is required: Authorization: Bearer <token>',
      );
    }
    return true;
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
