import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import { prometheusContentType } from 'prom-client';
import { BearerTokenGuard } from '../auth/bearer-token.guard.js';
import { MetricsService } from './metrics.service.js';
import { SSE_BUS_METRICS_OPTIONS, type SseBusMetricsOptions } from './metrics.options.js';

/** The metrics token's guard: without a token configured, scrapes are open. */
const MetricsTokenGuard = BearerTokenGuard(
  SSE_BUS_METRICS_OPTIONS,
  (options: SseBusMetricsOptions) => options.token,
  'open',
  'metrics',
);

@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  /** `GET /metrics`: the app's metrics in Prometheus's text format. */
  @Get()
  @UseGuards(MetricsTokenGuard)
  @Header('Content-Type', prometheusContentType)
  scrape(): Promise<string> {
    return this.metrics.scrape();
  }
}
