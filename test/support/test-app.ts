import 'reflect-metadata';
import {
  type CanActivate,
  Controller,
  type ExecutionContext,
  type INestApplication,
  type MessageEvent,
  Module,
  Req,
  Sse,
  UseGuards,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { Observable } from 'rxjs';
import {
  MessageBus,
  SseBusModule,
  type SseBusModuleExtras,
  type SseBusOptions,
  type StreamRequest,
} from '../../src/index.js';

export type Platform = 'fastify' | 'express';

export interface TestApp {
  readonly app: INestApplication;
  readonly url: string;
  readonly bus: MessageBus;
  close(): Promise<void>;
}

type OrdersRequest = StreamRequest & {
  query: Record<string, string | string[] | undefined>;
  headers: Record<string, string | string[] | undefined>;
  user?: { id: string };
};

/** The app's own guard: who the client is comes from the `x-user` header. */
class UserGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<OrdersRequest>();
    const user = request.headers['x-user'];
    if (typeof user === 'string') request.user = { id: user };
    return typeof user === 'string';
  }
}

/** An app's own `@Sse()` endpoint on the bus, as the README shows it. */
@Controller('orders')
class OrdersController {
  constructor(private readonly bus: MessageBus) {}

  @Sse('events')
  @UseGuards(UserGuard)
  events(@Req() request: OrdersRequest): Observable<MessageEvent> {
    return this.bus.sse(request, {
      clientId: request.user!.id,
      topics: request.query.topic ?? 'orders',
    });
  }
}

/**
 * An in-process instance of the module at a free port: on Fastify (with HTTP/2 if asked) or
 * Express, with an app's own `@Sse()` endpoint at `GET /orders/events` besides the module's.
 */
export async function startApp(
  options: SseBusOptions & SseBusModuleExtras = {},
  { http2 = false, platform = 'fastify' }: { http2?: boolean; platform?: Platform } = {},
): Promise<TestApp> {
  @Module({ imports: [SseBusModule.forRoot(options)], controllers: [OrdersController] })
  class AppModule {}

  const adapter =
    platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(http2 ? { http2 } : {});
  const app = await NestFactory.create(AppModule, adapter, {
    logger: false,
    abortOnError: false,
  });
  await app.listen(0, '127.0.0.1');
  return {
    app,
    url: (await app.getUrl()).replace('[::1]', '127.0.0.1'),
    bus: app.get(MessageBus),
    close: () => app.close(),
  };
}
