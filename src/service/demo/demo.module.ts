import { type DynamicModule, Module } from '@nestjs/common';
import { DemoController } from './demo.controller.js';
import { DemoPage } from './demo-page.js';

/** `GET /`: a page to watch a stream and publish to it from a browser (`SSE_DEMO=false`: off). */
@Module({})
export class DemoModule {
  /**
   * `publishing`: whether the service has a publish token; without one the page says how to set
   * it. The page learns only that, never the token: it is the person's to type in.
   */
  static forRoot(publishing: boolean): DynamicModule {
    return {
      module: DemoModule,
      controllers: [DemoController],
      providers: [{ provide: DemoPage, useFactory: () => DemoPage.load(publishing) }],
    };
  }
}
