import { SSE_BUS_OPTIONS } from '../config/sse-bus.constants.js';
import type { ResolvedSseBusOptions } from '../config/sse-bus.options.js';
import { BearerTokenGuard } from './bearer-token.guard.js';

/** The publish token's guard (`POST /sse/publish`, `GET /sse/presence`); unset: the routes are off. */
export const PublishTokenGuard = BearerTokenGuard(
  SSE_BUS_OPTIONS,
  (options: ResolvedSseBusOptions) => options.publishToken,
  'not-found',
  'publish',
);
