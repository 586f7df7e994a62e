import {
  Controller,
  Delete,
  HttpCode,
  HttpStatus,
  Param,
  Query,
  SetMetadata,
  UseFilters,
} from '@nestjs/common';
import { parseDisconnectQuery } from './disconnect-request.js';
import { TOKEN_ROUTE_CONFIG } from './fastify-token-routes.js';
import { BusErrorFilter } from './http/bus-error.filter.js';
import { MessageBus } from './message-bus.js';

/** What services outside this process do to a client's streams, behind the publish token. */
@Controller('sse/clients')
@UseFilters(BusErrorFilter)
export class ClientsController {
  constructor(private readonly bus: MessageBus) {}

  /**
   * `DELETE /sse/clients/:clientId/streams?blockMs=&reason=&revokeTokens=`: `bus.disconnect()`.
   * The token is checked before anything else (see `SseBusModule.configure`; on Fastify,
   * `FastifyTokenRoutes`).
   */
  @Delete(':clientId/streams')
  @SetMetadata(...TOKEN_ROUTE_CONFIG)
  @HttpCode(HttpStatus.ACCEPTED)
  async disconnect(@Param('clientId') clientId: string, @Query() query: unknown): Promise<void> {
    await this.bus.disconnect(clientId, parseDisconnectQuery(query));
  }
}
