import { BadRequestException } from '@nestjs/common';
import type { PublishOptions } from './bus/message-validation.js';

/** The body of `POST /sse/publish`. */
export interface PublishRequest extends PublishOptions {
  data: unknown;
}

const FIELDS = new Set(['data', 'clientId', 'event', 'topic']);

/** Checks the shape of a publish body; the bus checks the values. Throws 400 saying what is wrong. */
export function parsePublishRequest(body: unknown): PublishRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequestException(
      'The body must be a JSON object: { "data": …, "clientId"?, "event"?, "topic"? }',
    );
  }
  const unknown = Object.keys(body).filter((key) => !FIELDS.has(key));
  if (unknown.length > 0) throw new BadRequestException(`Unknown field(s): ${unknown.join(', ')}`);
  const { data, clientId, event, topic } = body as Record<string, unknown>;
  if (data === undefined) throw new BadRequestException('"data" is required');
  for (const [name, value] of [
    ['clientId', clientId],
    ['topic', topic],
  ] as const) {
    const isList = Array.isArray(value) && value.every((each) => typeof each === 'string');
    if (value !== undefined && typeof value !== 'string' && !isList) {
      throw new BadRequestException(`"${name}" must be a string or an array of strings`);
    }
  }
  if (event !== undefined && typeof event !== 'string') {
    throw new BadRequestException('"event" must be a string');
  }
  return {
    data,
    clientId: clientId as PublishOptions['clientId'],
    event: event as string | undefined,
    topic: topic as PublishOptions['topic'],
  };
}
