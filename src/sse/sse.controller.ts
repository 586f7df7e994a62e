import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import {
  Controller,
  ForbiddenException,
  Get,
  Req,
  Res,
  ServiceUnavailableException,
  UseGuards,
} from '@nestjs/common';
import { Client, type ClientIdentity } from '../auth/client-identity.js';
import { ClientIdentityGuard } from '../auth/client-identity.guard.js';
import { grants } from '../bus/topics.js';
import { SseStreamService } from './sse-stream.service.js';
import { type StreamRequest, lastEventIdOf, queryTopics, rawRequest } from './stream-request.js';

/** A Fastify reply, or the response itself under Express. */
type StreamResponse =
  ServerResponse | { raw: ServerResponse; hijack(): void; getHeaders(): OutgoingHttpHeaders };

/**
 * Takes the response over from the framework, with the headers set on it so far (CORS, say):
 * the stream writes it from now on.
 */
function takeOver(reply: StreamResponse): [ServerResponse, OutgoingHttpHeaders] {
  if (!('raw' in reply)) return [reply, {}];
  reply.hijack();
  return [reply.raw, reply.getHeaders()];
}

@Controller('sse')
export class SseController {
  constructor(private readonly streams: SseStreamService) {}

  /**
   * `GET /sse/msg`: the client's event stream; `?topic=` (repeated) subscribes to topics. The
   * handler takes the response (`@Res()`) rather than returning an Observable to `@Sse()`:
   * Nest's per-request SSE machinery would cost more memory per open connection than
   * everything else the stream holds (see the README).
   */
  @Get('msg')
  @UseGuards(ClientIdentityGuard)
  stream(
    @Req() request: StreamRequest,
    @Res() reply: StreamResponse,
    @Client() client: ClientIdentity,
  ): void {
    const topics = queryTopics(request);
    const denied = client.topics && topics?.find((topic) => !grants(client.topics!, topic));
    if (denied) throw new ForbiddenException(`The token does not grant topic "${denied}"`);
    if (!this.streams.admit()) {
      // Browsers give up for good on any status but 200: they get a stream saying "busy".
      if (rawRequest(request).headers.accept?.includes('text/event-stream')) {
        return this.streams.turnAway(...takeOver(reply));
      }
      const retryAfter = String(Math.ceil(this.streams.busyRetryMs() / 1000));
      ('raw' in reply ? reply.raw : reply).setHeader('Retry-After', retryAfter);
      throw new ServiceUnavailableException('Too many streams on this instance; retry later');
    }
    this.streams.open(...takeOver(reply), {
      clientId: client.clientId,
      topics: topics && new Set(topics),
      lastEventId: lastEventIdOf(request),
      expiresAt: client.expiresAt,
    });
  }
}
