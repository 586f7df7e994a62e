import { Body, Controller, Headers, HttpCode, HttpStatus, Post, UseFilters } from '@nestjs/common';
import { BusErrorFilter } from './http/bus-error.filter.js';
import { MessageBus } from './message-bus.js';
import { parsePublishRequest } from './publish-request.js';

@Controller('sse')
@UseFilters(BusErrorFilter)
export class PublishController {
  constructor(private readonly bus: MessageBus) {}

  /**
   * `POST /sse/publish`: `MessageBus.publish()` for services that are not in this process. The
   * token and the media type are checked before the body is read (see `SseBusModule.configure`);
   * the `Idempotency-Key` header is its `idempotencyKey`.
   */
  @Post('publish')
  @HttpCode(HttpStatus.ACCEPTED)
  async publish(
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
  ): Promise<{ id: string }> {
    const { data, ...options } = parsePublishRequest(body);
    return { id: await this.bus.publish(data, { ...options, idempotencyKey }) };
  }
}
