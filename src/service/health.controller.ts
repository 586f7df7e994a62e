import { Controller, Get } from '@nestjs/common';
import { HealthCheck, type HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
import { SseBusHealthIndicator } from '../health/sse-bus.health.js';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly bus: SseBusHealthIndicator,
  ) {}

  /** `GET /health/live`: the process is up and answers. */
  @Get('live')
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  /** `GET /health/ready`: clients may be sent here: the bus reads the log and can write to it. */
  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check([() => this.bus.isHealthy()]);
  }
}
