/**
 * Baseline: the naive design. NestJS on Express; a `Map<clientId, Response>` of open streams;
 * `POST /sse/publish` PUBLISHes the message on a Redis channel (always, even with one instance);
 * each instance's subscriber parses it and, for every recipient, builds the frame with
 * `JSON.stringify` and writes it with `res.write`. A heartbeat timer per connection. No
 * backpressure policy.
 */
import 'reflect-metadata';
import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  HttpException,
  Injectable,
  Module,
  type OnModuleInit,
  Post,
  Req,
  Res,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { IncomingMessage as Request, ServerResponse as Response } from 'node:http';
import { Redis } from 'ioredis';
import {
  SSE_HEADERS,
  clientIdOf,
  env,
  nextId,
  openingText,
  parsePublish,
  publishAllowed,
} from './common.js';

const CHANNEL = 'sse-bench';

interface Message {
  id: string;
  to: string[] | null;
  event?: string;
  data: unknown;
}

@Injectable()
class Hub implements OnModuleInit {
  readonly clients = new Map<string, Response>();
  readonly publisher = new Redis(env.redisUrl ?? 'redis://127.0.0.1:6379', { lazyConnect: true });
  private readonly subscriber = new Redis(env.redisUrl ?? 'redis://127.0.0.1:6379', {
    lazyConnect: true,
  });
  lastId = '0';

  async onModuleInit(): Promise<void> {
    await Promise.all([this.publisher.connect(), this.subscriber.connect()]);
    this.subscriber.on('message', (_channel: string, text: string) =>
      this.deliver(JSON.parse(text) as Message),
    );
    await this.subscriber.subscribe(CHANNEL);
  }

  private deliver(message: Message): void {
    this.lastId = message.id;
    const targets = message.to
      ? message.to.map((id) => this.clients.get(id))
      : this.clients.values();
    for (const res of targets) {
      if (!res) continue;
      const event = message.event ? `event: ${message.event}\n` : '';
      res.write(`id: ${message.id}\n${event}data: ${JSON.stringify(message.data)}\n\n`);
    }
  }
}

@Controller('sse')
class SseController {
  constructor(private readonly hub: Hub) {}

  @Get('msg')
  async stream(@Req() req: Request, @Res() res: Response): Promise<void> {
    const clientId = await clientIdOf(req.url);
    if (!clientId) {
      res.writeHead(401).end();
      return;
    }
    res.writeHead(200, SSE_HEADERS);
    res.write(openingText(clientId, this.hub.lastId));
    this.hub.clients.set(clientId, res);
    const heartbeat = setInterval(() => res.write(':\n\n'), env.heartbeatMs);
    req.on('close', () => {
      clearInterval(heartbeat);
      if (this.hub.clients.get(clientId) === res) this.hub.clients.delete(clientId);
    });
  }

  @Post('publish')
  @HttpCode(202)
  async publish(
    @Headers('authorization') authorization: string | undefined,
    @Body() body: unknown,
  ) {
    if (!publishAllowed(authorization)) throw new HttpException('Unauthorized', 401);
    const parsed = parsePublish(body);
    if (typeof parsed === 'string') throw new HttpException(parsed, 400);
    const message: Message = {
      id: nextId(),
      to: parsed.to,
      event: parsed.event,
      data: parsed.data,
    };
    await this.hub.publisher.publish(CHANNEL, JSON.stringify(message));
    return { id: message.id };
  }
}

@Module({ controllers: [SseController], providers: [Hub] })
class AppModule {}

const app = await NestFactory.create(AppModule, new ExpressAdapter(), {
  logger: ['error', 'warn'],
});
await app.listen(env.port, env.host);
console.log(`naive-nest listening on ${env.host}:${env.port}`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
