import type { DynamicModule } from '@nestjs/common';
import { ConfigError } from '../config/config.error.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';
import { SSE_BUS_METRICS_OPTIONS, type SseBusMetricsOptions } from './metrics.options.js';
import { PUBLISH_SECONDS, publishSecondsHistogram } from './publish-seconds.js';

/** `definition`, serving `GET /metrics` as `metrics` says. */
export function withMetrics(
  definition: DynamicModule,
  metrics: true | SseBusMetricsOptions,
): DynamicModule {
  const options = metrics === true ? {} : metrics;
  if (options.token !== undefined && (typeof options.token !== 'string' || options.token === '')) {
    throw new ConfigError('metrics.token', 'expected a non-empty string or nothing');
  }
  return {
    ...definition,
    controllers: [...(definition.controllers ?? []), MetricsController],
    providers: [
      ...(definition.providers ?? []),
      { provide: SSE_BUS_METRICS_OPTIONS, useValue: options },
      { provide: PUBLISH_SECONDS, useFactory: publishSecondsHistogram },
      MetricsService,
    ],
  };
}
