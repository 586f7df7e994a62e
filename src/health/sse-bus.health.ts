import { Injectable } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { MessageBus } from '../message-bus.js';

/**
 * The bus as a `@nestjs/terminus` health indicator: up while this instance reads the log and can
 * write to it, down with what is wrong otherwise. The embedded bus is always up.
 *
 * Provide it beside `TerminusModule`, and check it from a `@HealthCheck()` handler:
 * `this.health.check([() => this.bus.isHealthy()])`.
 */
@Injectable()
export class SseBusHealthIndicator {
  constructor(
    private readonly bus: MessageBus,
    private readonly indicator: HealthIndicatorService,
  ) {}

  isHealthy<const Key extends string = 'sse-bus'>(
    key: Key = 'sse-bus' as Key,
  ): HealthIndicatorResult<Key> {
    const check = this.indicator.check(key);
    const { transport, reading, writing, detail } = this.bus.health();
    if (reading && writing) return check.up({ transport });
    const problem = reading ? 'cannot publish: not connected to Redis' : detail;
    return check.down({ transport, reading, writing, detail: problem });
  }
}
