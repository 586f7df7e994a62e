import {
  Body,
  Controller,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  SetMetadata,
  UseFilters,
} from '@nestjs/common';
import { JSON_TOKEN_ROUTE_CONFIG } from './fastify-token-routes.js';
import { BusErrorFilter } from './http/bus-error.filter.js';
import { MessageBus } from './message-bus.js';
import { parseTopicsRequest } from './topics-request.js';

@Controller('sse')
@UseFilters(BusErrorFilter)
export class TopicsController {
  constructor(private readonly bus: MessageBus) {}

  /**
   * `POST /sse/clients/:clientId/topics`, `{ "join": [...], "leave": [...] }`:
   * `MessageBus.changeTopics()` for services that are not in this process. Behind the publish
   * token, checked with the media type before the body is read (see `SseBusModule.configure`; on
   * Fastify, `FastifyTokenRoutes`).
   */
  @Post('clients/:clientId/topics')
  @SetMetadata(...JSON_TOKEN_ROUTE_CONFIG)
  @HttpCode(HttpStatus.ACCEPTED)
  async change(
    @Param('clientId') clientId: string,
    @Body() body: unknown,
  ): Promise<{ id: string }> {
    return { id: await this.bus.changeTopics(clientId, parseTopicsRequest(body)) };
  }
}
