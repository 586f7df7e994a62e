import type { Logger } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import { withDeadline } from './deadline.js';

/** Lua scripts a connection defines as commands: name → how many keys, and the script. */
export type Scripts = Record<string, { numberOfKeys: number; lua: string }>;

/**
 * A connection of the bus's own, named `sse-bus:<role>` (visible in `CLIENT LIST`), not yet
 * connected (`lazyConnect`), with `scripts` defined on it.
 */
export function openRedis(
  url: string,
  role: string,
  logger: Logger,
  scripts: Scripts,
  options: RedisOptions = {},
): Redis {
  const client = new Redis(url, {
    protocol: 2,
    lazyConnect: true,
    // Reconnect quickly and keep trying: a restarted Redis should be picked up in well under
    // a second, and giving up would leave the instance deaf for good.
    retryStrategy: (times) => Math.min(50 * times, 1000),
    // A command in flight when the connection drops is failed (see `InFlight`), never silently
    // sent twice.
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: null,
    ...options,
    connectionName: `sse-bus:${role}`,
  });
  client.on('error', (err: Error) => logger.warn(`Redis ${role}: ${err.message}`));
  for (const [name, script] of Object.entries(scripts)) client.defineCommand(name, script);
  return client;
}

/**
 * Quits within `ms`, else drops the connection: a QUIT on one that stopped answering would never
 * be answered either.
 */
export async function closeRedis(client: Redis, ms: number): Promise<void> {
  await withDeadline(client.quit(), ms, 'QUIT').catch(() => client.disconnect());
}
