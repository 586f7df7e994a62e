import { BadRequestException } from '@nestjs/common';

/** The query of `GET /sse/presence`: one client, one topic, or neither. */
export interface PresenceQuery {
  readonly clientId?: string;
  readonly topic?: string;
}

const PARAMETERS = new Set(['clientId', 'topic']);

/** Checks the shape of the query; `Presence` checks the values. Throws 400 saying what is wrong. */
export function parsePresenceQuery(query: unknown): PresenceQuery {
  const params = (query ?? {}) as Record<string, unknown>;
  const unknown = Object.keys(params).filter((name) => !PARAMETERS.has(name));
  if (unknown.length > 0) {
    throw new BadRequestException(
      `Unknown parameter(s): ${unknown.join(', ')}; expected clientId or topic`,
    );
  }
  for (const [name, value] of Object.entries(params)) {
    if (Array.isArray(value)) throw new BadRequestException(`${name} must be given once`);
    if (typeof value !== 'string') throw new BadRequestException(`${name} must be a string`);
  }
  if (params.clientId !== undefined && params.topic !== undefined) {
    throw new BadRequestException('Give clientId or topic, not both');
  }
  return params as PresenceQuery;
}
