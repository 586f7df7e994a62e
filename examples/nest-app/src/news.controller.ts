import {
  BadRequestException,
  Body,
  Controller,
  HttpCode,
  type MessageEvent,
  Param,
  Post,
  Req,
  Sse,
  UseGuards,
} from '@nestjs/common';
import type { Observable } from 'rxjs';
import { MessageBus } from 'sse-bus';
import { NEWS_TOPIC, NewsService } from './news.service.js';
import { type UserRequest, UserGuard } from './user.guard.js';

@Controller('news')
export class NewsController {
  constructor(
    private readonly bus: MessageBus,
    private readonly news: NewsService,
  ) {}

  /** The user's stream: the news topic, and the messages for them alone. */
  @Sse('events')
  @UseGuards(UserGuard)
  events(@Req() request: UserRequest): Observable<MessageEvent> {
    return this.bus.sse(request, { clientId: request.user, topics: [NEWS_TOPIC] });
  }

  @Post()
  @HttpCode(202)
  async announce(@Body() body: { text?: unknown }): Promise<{ id: string }> {
    return { id: await this.news.announce(textOf(body)) };
  }

  @Post('to/:user')
  @HttpCode(202)
  async tell(
    @Param('user') user: string,
    @Body() body: { text?: unknown },
  ): Promise<{ id: string }> {
    return { id: await this.news.tell(user, textOf(body)) };
  }
}

function textOf(body: { text?: unknown } | undefined): string {
  if (typeof body?.text !== 'string') throw new BadRequestException('text: a string');
  return body.text;
}
