import { Module } from '@nestjs/common';
import { DemoController } from './demo.controller.js';
import { DemoPage } from './demo-page.js';

/** `GET /`: a page to watch a stream and publish to it from a browser (`SSE_DEMO=false`: off). */
@Module({
  controllers: [DemoController],
  providers: [{ provide: DemoPage, useFactory: () => DemoPage.load() }],
})
export class DemoModule {}
