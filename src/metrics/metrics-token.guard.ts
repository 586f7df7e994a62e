import type { IncomingHttpHeaders } from 'node:http';
import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { bearerToken } from '../auth/request-token.js';
import { SecretToken } from '../auth/secret-token.js';
import { SSE_BUS_METRICS_OPTIONS, type SseBusMetricsOptions } from './metrics.options.js';

/** Lets a scrape through when it bears the metrics token, or when none is configured. */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  private readonly expected: SecretToken | undefined;

  constructor(@Inject(SSE_BUS_METRICS_OPTIONS) options: SseBusMetricsOptions) {
    this.expected = options.token === undefined ? undefined : new SecretToken(options.token);
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) return true;
    const { headers } = context.switchToHttp().getRequest<{ headers: IncomingHttpHeaders }>();
    if (!this.expected.matches(bearerToken(headers))) {
      throw new UnauthorizedException(
        'A valid metrics token is required: Authorization: Bearer <token>',
      );
    }
    return true;
  }
}
