import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';

const app = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter());
// On SIGTERM the bus ends its streams with a spread-out retry and closes Redis.
app.enableShutdownHooks();
const config = app.get(ConfigService);
await app.listen(config.get<string>('PORT', '3000'), config.get<string>('HOST', '127.0.0.1'));
console.log(`Listening on ${await app.getUrl()}`);
