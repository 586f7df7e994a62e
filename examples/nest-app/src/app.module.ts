import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { SseBusModule } from 'sse-bus';
import { NewsController } from './news.controller.js';
import { NewsService } from './news.service.js';
import { UserGuard } from './user.guard.js';

@Module({
  imports: [
    // The environment, and a .env file if there is one.
    ConfigModule.forRoot(),
    SseBusModule.forRootAsync({
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        // Unset: the embedded bus, one instance. Set: every instance on that Redis is one bus.
        redisUrl: config.get<string>('REDIS_URL'),
        redisKeyPrefix: config.get<string>('SSE_REDIS_PREFIX', 'nest-app'),
      }),
    }),
  ],
  controllers: [NewsController],
  providers: [NewsService, UserGuard],
})
export class AppModule {}
