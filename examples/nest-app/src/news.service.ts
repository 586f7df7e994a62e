import { Injectable } from '@nestjs/common';
import { MessageBus } from 'sse-bus';

export const NEWS_TOPIC = 'news';

/** Publishes from anywhere in the app: every instance delivers to its own subscribers. */
@Injectable()
export class NewsService {
  constructor(private readonly bus: MessageBus) {}

  /** To every stream on the news topic; resolves to the message's id once it is on the bus. */
  announce(text: string): Promise<string> {
    return this.bus.publish({ text }, { topic: NEWS_TOPIC });
  }

  /** To one user only, on each of their connections, whichever instance holds them. */
  tell(user: string, text: string): Promise<string> {
    return this.bus.publish({ text }, { clientId: user, event: 'direct' });
  }
}
