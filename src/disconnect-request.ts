import { BadRequestException } from '@nestjs/common';
import type { DisconnectOptions } from './bus/disconnect-options.js';

const PARAMETERS = new Set(['blockMs', 'reason', 'revokeTokens']);

/**
 * The query of `DELETE /sse/clients/:clientId/streams` as `disconnect()` options; the bus checks
 * the values. Throws 400 saying what is wrong.
 */
export function parseDisconnectQuery(query: unknown): DisconnectOptions {
  const params = (query ?? {}) as Record<string, unknown>;
  const unknown = Object.keys(params).filter((name) => !PARAMETERS.has(name));
  if (unknown.length > 0) {
    throw new BadRequestException(
      `Unknown parameter(s): ${unknown.join(', ')}; expected blockMs, reason or revokeTokens`,
    );
  }
  for (const [name, value] of Object.entries(params)) {
    if (typeof value !== 'string') throw new BadRequestException(`${name} must be given once`);
  }
  const { blockMs, reason, revokeTokens } = params as Record<string, string | undefined>;
  if (blockMs !== undefined && !/^\d{1,10}$/.test(blockMs)) {
    throw new BadRequestException('blockMs must be a whole number of milliseconds');
  }
  if (revokeTokens !== undefined && revokeTokens !== 'true' && revokeTokens !== 'false') {
    throw new BadRequestException('revokeTokens must be true or false');
  }
  return {
    blockMs: blockMs === undefined ? undefined : Number(blockMs),
    reason,
    revokeTokens: revokeTokens === 'true',
  };
}
