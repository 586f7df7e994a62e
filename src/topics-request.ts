import { BadRequestException } from '@nestjs/common';
import type { TopicChangeOptions } from './bus/message-validation.js';

const FIELDS = new Set(['join', 'leave']);

/**
 * Checks the shape of a `POST /sse/clients/:clientId/topics` body; the bus checks the names.
 * Throws 400 saying what is wrong.
 */
export function parseTopicsRequest(body: unknown): TopicChangeOptions {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequestException(
      'The body must be a JSON object: { "join"?: [...], "leave"?: [...] }',
    );
  }
  const unknown = Object.keys(body).filter((key) => !FIELDS.has(key));
  if (unknown.length > 0) throw new BadRequestException(`Unknown field(s): ${unknown.join(', ')}`);
  const change = body as Record<string, unknown>;
  for (const name of FIELDS) {
    const value = change[name];
    const isList = Array.isArray(value) && value.every((each) => typeof each === 'string');
    if (value !== undefined && typeof value !== 'string' && !isList) {
      throw new BadRequestException(`"${name}" must be a string or an array of strings`);
    }
  }
  return change as TopicChangeOptions;
}
