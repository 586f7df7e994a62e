import {
  Controller,
  ForbiddenException,
  Get,
  HttpStatus,
  Req,
  Res,
  ServiceUnavailableException,
  UseGuards,
} from '@nestjs/common';
import { Client, type ClientIdentity } from '../auth/client-identity.js';
import { ClientIdentityGuard } from '../auth/client-identity.guard.js';
import { grants } from '../bus/topics.js';
import {
  type StreamReply,
  type StreamRequest,
  rawRequest,
  rawResponse,
  takeOver,
} from '../http/platform.js';
import { FRAME_ENCODING } from './frame-encoding.js';
import { ResponseWriter } from './response-writer.js';
import { StreamRegistry } from './stream-registry.js';
import { lastEventIdOf, queryTopics } from './stream-request.js';

@Controller('sse')
export class SseController {
  constructor(private readonly streams: StreamRegistry) {}

  /**
   * `GET /sse/msg`: the client's event stream; `?topic=` (repeated) subscribes to topics. The
   * handler takes the response (`@Res()`) rather than returning an Observable to `@Sse()`:
   * Nest's per-request SSE machinery would cost more memory per open connection than
   * everything else the stream holds (see the README). Its frames are bytes built once per
   * process, written straight to the socket (`ResponseWriter`).
   */
  @Get('msg')
  @UseGuards(ClientIdentityGuard)
  async stream(
    @Req() request: StreamRequest,
    @Res() reply: StreamReply,
    @Client() client: ClientIdentity,
  ): Promise<void> {
    const topics = queryTopics(request);
    const denied = client.topics && topics?.find((topic) => !grants(client.topics!, topic));
    if (denied) throw new ForbiddenException(`The token does not grant topic "${denied}"`);
    const admission = this.streams.admit(rawRequest(request), client.clientId);
    if (admission === 'refused') {
      const retryAfter = String(Math.ceil(this.streams.busyRetryMs() / 1000));
      rawResponse(reply).setHeader('Retry-After', retryAfter);
      throw new ServiceUnavailableException('Too many streams on this instance; retry later');
    }
    // A blocked client gets no stream, and its EventSource stops for good.
    if (admission === 'open' && (await this.streams.clear(client.clientId)) === 'blocked') {
      const [response, headers] = takeOver(reply);
      return void response.writeHead(HttpStatus.NO_CONTENT, headers).end();
    }
    const writer = new ResponseWriter(...takeOver(reply), this.streams.maxBufferedBytes);
    if (admission === 'busy') {
      if (!writer.bodiless) writer.write(FRAME_ENCODING.busy(this.streams.busyRetryMs(), ''));
      return writer.end(false);
    }
    if (writer.bodiless) {
      this.streams.withdraw(client.clientId);
      return writer.end(false);
    }
    const stream = this.streams.open(FRAME_ENCODING, writer, {
      clientId: client.clientId,
      topics: topics && new Set(topics),
      lastEventId: lastEventIdOf(request),
      expiresAt: client.expiresAt,
    });
    stream.add(writer.onClose(() => stream.unsubscribe()));
  }
}
