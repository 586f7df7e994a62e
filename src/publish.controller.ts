import { Body, Controller, Headers, Post, Res, SetMetadata } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { PUBLISH_ROUTE_CONFIG } from './fastify-token-routes.js';
import { PublishEndpoint } from './publish-endpoint.js';

/**
 * `POST /sse/publish`: `MessageBus.publish()` and `publishMany()` for services that are not in
 * this process (see `PublishEndpoint`). The token and the media type are checked before the body
 * is read (see `SseBusModule.configure`). On Fastify, `FastifyTokenRoutes` serves this route
 * without Nest's pipeline; this handler serves it on other platforms.
 */
@Controller('sse')
export class PublishController {
  constructor(
    private readonly endpoint: PublishEndpoint,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  @Post('publish')
  @SetMetadata(...PUBLISH_ROUTE_CONFIG)
  async publish(
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res() response: unknown,
  ): Promise<void> {
    const answer = await this.endpoint.answer(body, idempotencyKey);
    const { httpAdapter } = this.adapterHost;
    if (answer.retryAfter) {
      httpAdapter.setHeader(response, 'Retry-After', String(answer.retryAfter));
    }
    httpAdapter.reply(response, answer.body, answer.status);
  }
}
