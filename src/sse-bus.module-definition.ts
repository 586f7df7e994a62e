import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { SseBusOptions } from './config/sse-bus.options.js';
import type { SseBusMetricsOptions } from './metrics/metrics.options.js';
import { withMetrics } from './metrics/with-metrics.js';

/** What shapes the module itself: given to `forRootAsync()` as it is, not made by the factory. */
export interface SseBusModuleExtras {
  /**
   * Serve `GET /metrics` (Prometheus): `true`, or `{ token }` to require a bearer token.
   * @default false
   */
  metrics?: boolean | SseBusMetricsOptions;
}

export const {
  ConfigurableModuleClass: SseBusConfigurableModule,
  MODULE_OPTIONS_TOKEN: SSE_BUS_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<SseBusOptions>({ moduleName: 'SseBus' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createSseBusOptions')
  .setExtras<SseBusModuleExtras>({ metrics: false }, (definition, { metrics }) =>
    metrics ? withMetrics(definition, metrics) : definition,
  )
  .build();
