import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import { prometheusContentType } from 'prom-client';
import { MetricsService } from './metrics.service.js';
import { MetricsTokenGuard } from './metrics-token.guard.js';

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
