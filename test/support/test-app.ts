import 'reflect-metadata';
import { Module, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { MessageBus, SseBusModule, type SseBusOptions } from '../../src/index.js';

export interface TestApp {
  readonly app: NestFastifyApplication;
  readonly url: string;
  readonly bus: MessageBus;
  close(): Promise<void>;
}

/**
 * An in-process instance of the module on a Fastify server at a free port; with `controllers`,
 * in an app of its own that has them.
 */
export async function startApp(
  options: SseBusOptions = {},
  { http2 = false, controllers = [] }: { http2?: boolean; controllers?: Type[] } = {},
): Promise<TestApp> {
  @Module({ imports: [SseBusModule.forRoot(options)], controllers })
  class AppModule {}
  const app = await NestFactory.create<NestFastifyApplication>(
    controllers.length ? AppModule : SseBusModule.forRoot(options),
    new FastifyAdapter(http2 ? { http2: true } : {}),
    { logger: false, abortOnError: false },
  );
  await app.listen(0, '127.0.0.1');
  return {
    app,
    url: await app.getUrl(),
    bus: app.get(MessageBus),
    close: () => app.close(),
  };
}
