import { BadRequestException } from '@nestjs/common';
import { checkTopics } from '../bus/topics.js';
import { type StreamRequest, rawRequest } from '../http/platform.js';

function queryOf(request: StreamRequest): Record<string, unknown> {
  return (request.query ?? {}) as Record<string, unknown>;
}

/** Where the client resumes from: `Last-Event-ID`, or `?lastEventId=` for clients that cannot set it. */
export function lastEventIdOf(request: StreamRequest): string | undefined {
  const header = rawRequest(request).headers['last-event-id'];
  const query = queryOf(request).lastEventId;
  return (typeof header === 'string' && header) || (typeof query === 'string' ? query : undefined);
}

/** The topics of `?topic=a&topic=b`, or null without any; 400 for a bad one. */
export function queryTopics(request: StreamRequest): string[] | null {
  const topic = queryOf(request).topic;
  return topic === undefined ? null : streamTopics(topic);
}

/** A stream's topics, checked: 400 saying what is wrong. */
export function streamTopics(topics: unknown): string[] {
  return checkTopics(topics, 'topic', (message) => new BadRequestException(message));
}
