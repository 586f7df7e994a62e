import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import {
  Controller,
  Req,
  Res,
  ServiceUnavailableException,
  Sse,
  UseGuards,
  type MessageEvent,
} from '@nestjs/common';
import type { Observable } from 'rxjs';
import { Client, type ClientIdentity } from '../auth/client-identity.js';
import { ClientIdentityGuard } from '../auth/client-identity.guard.js';
import { SseStreamService } from './sse-stream.service.js';

/** What the handler needs of the request and response, under Fastify or Express. */
interface StreamRequest {
  headers: IncomingHttpHeaders;
  query?: Record<string, unknown>;
}
type StreamResponse = ServerResponse | { raw: ServerResponse };

@Controller('sse')
export class SseController {
  constructor(private readonly streams: SseStreamService) {}

  /** `GET /sse/msg`: the client's event stream. */
  @Sse('msg')
  @UseGuards(ClientIdentityGuard)
  stream(
    @Req() request: StreamRequest,
    @Res({ passthrough: true }) reply: StreamResponse,
    @Client() client: ClientIdentity,
  ): Observable<MessageEvent> {
    const response = 'raw' in reply ? reply.raw : reply;
    if (!this.streams.admits()) {
      // Browsers give up for good on any status but 200: they get a stream saying "busy".
      if (request.headers.accept?.includes('text/event-stream')) {
        return this.streams.turnAway(response);
      }
      response.setHeader('Retry-After', Math.ceil(this.streams.busyRetryMs() / 1000));
      throw new ServiceUnavailableException('Too many streams on this instance; retry later');
    }
    const header = request.headers['last-event-id'];
    const query = request.query?.lastEventId;
    const lastEventId =
      (typeof header === 'string' && header) || (typeof query === 'string' ? query : undefined);
    return this.streams.open(response, client, lastEventId);
  }
}
