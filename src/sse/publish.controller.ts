import type { ServerResponse } from 'node:http';
import {
  BadRequestException,
  Body,
  Controller,
  HttpCode,
  HttpException,
  HttpStatus,
  Post,
  Res,
  ServiceUnavailableException,
  UseGuards,
} from '@nestjs/common';
import { PublishTokenGuard } from '../auth/publish-token.guard.js';
import { MessageBus } from '../bus/message-bus.js';
import { BusUnavailableError } from '../bus/errors/bus-unavailable.error.js';
import { InvalidMessageError } from '../bus/errors/invalid-message.error.js';
import { MessageTooLargeError } from '../bus/errors/message-too-large.error.js';
import { parsePublishRequest } from './publish-request.js';

/** Seconds a publisher is asked to wait while the bus is unavailable. */
const RETRY_AFTER_SECONDS = 1;

@Controller('sse')
export class PublishController {
  constructor(private readonly bus: MessageBus) {}

  /** `POST /sse/publish`: publishes for services that are not in this process. */
  @Post('publish')
  @HttpCode(HttpStatus.ACCEPTED)
  @UseGuards(PublishTokenGuard)
  async publish(
    @Body() body: unknown,
    @Res({ passthrough: true })
    reply: ServerResponse | { header(name: string, value: string): void },
  ): Promise<{ id: string }> {
    const { data, ...options } = parsePublishRequest(body);
    try {
      return { id: await this.bus.publish(data, options) };
    } catch (err) {
      if (err instanceof InvalidMessageError) throw new BadRequestException(err.message);
      if (err instanceof MessageTooLargeError) {
        throw new HttpException(err.message, HttpStatus.PAYLOAD_TOO_LARGE);
      }
      if (err instanceof BusUnavailableError) {
        if ('header' in reply) reply.header('Retry-After', String(RETRY_AFTER_SECONDS));
        else reply.setHeader('Retry-After', RETRY_AFTER_SECONDS);
        throw new ServiceUnavailableException(err.message);
      }
      throw err;
    }
  }
}
