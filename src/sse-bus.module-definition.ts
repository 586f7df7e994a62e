import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { SseBusOptions } from './config/sse-bus.options.js';

export const {
  ConfigurableModuleClass: SseBusConfigurableModule,
  MODULE_OPTIONS_TOKEN: SSE_BUS_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<SseBusOptions>({ moduleName: 'SseBus' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createSseBusOptions')
  .build();
