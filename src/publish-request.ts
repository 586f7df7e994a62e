import { BadRequestException } from '@nestjs/common';
import type { PublishMessage } from './bus/publish-message.js';
import type { PublishOptions } from './bus/message-validation.js';

const FIELDS = new Set(['data', 'clientId', 'event', 'topic', 'idempotencyKey']);

/**
 * Checks the shape of a message of a publish body; the bus checks the values. Throws 400 saying
 * what is wrong. `idempotencyKey` is the key it gets when it names none itself (the header's).
 */
export function parsePublishRequest(body: unknown, idempotencyKey?: string): PublishMessage {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequestException(
      'A message must be a JSON object: { "data": …, "clientId"?, "event"?, "topic"?, "idempotencyKey"? }',
    );
  }
  const unknown = Object.keys(body).filter((key) => !FIELDS.has(key));
  if (unknown.length > 0) throw new BadRequestException(`Unknown field(s): ${unknown.join(', ')}`);
  const { data, clientId, event, topic, idempotencyKey: ownKey } = body as Record<string, unknown>;
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
  for (const [name, value] of [
    ['event', event],
    ['idempotencyKey', ownKey],
  ] as const) {
    if (value !== undefined && typeof value !== 'string') {
      throw new BadRequestException(`"${name}" must be a string`);
    }
  }
  return {
    data,
    clientId: clientId as PublishOptions['clientId'],
    event: event as string | undefined,
    topic: topic as PublishOptions['topic'],
    idempotencyKey: (ownKey as string | undefined) ?? idempotencyKey,
  };
}
