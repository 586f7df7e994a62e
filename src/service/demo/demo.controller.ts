import { Controller, Get, Header, Res } from '@nestjs/common';
import { DemoPage } from './demo-page.js';

@Controller()
export class DemoController {
  constructor(private readonly page: DemoPage) {}

  /** `GET /`: the demo page, which shows a stream and publishes to it. */
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('X-Content-Type-Options', 'nosniff')
  @Header('Referrer-Policy', 'no-referrer')
  show(
    @Res({ passthrough: true }) reply: { header(name: string, value: string): unknown },
  ): string {
    reply.header('Content-Security-Policy', this.page.contentSecurityPolicy);
    return this.page.html;
  }

  /** `GET /sse-bus-client.js`: the browser client (`sse-bus/client`) the page imports. */
  @Get('sse-bus-client.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('X-Content-Type-Options', 'nosniff')
  client(): string {
    return this.page.client;
  }
}
