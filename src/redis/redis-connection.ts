import type { Logger } from '@nestjs/common';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { clusterNodes } from '../config/redis-url.js';
import { withDeadline } from './deadline.js';

/** Lua scripts a connection defines as commands: name → how many keys, and the script. */
export type Scripts = Record<string, { numberOfKeys: number; lua: string }>;

/** A connection to one Redis, or a client of a Redis Cluster: what the bus's parts share. */
export type RedisClient = Redis | Cluster;

// Reconnect quickly and keep trying: a restarted Redis should be picked up in well under a
// second, and giving up would leave the instance deaf for good.
const retryStrategy = (times: number) => Math.min(50 * times, 1000);

/**
 * A connection of the bus's own, named `sse-bus:<role>` (visible in `CLIENT LIST`), not yet
 * connected (`lazyConnect`), with `scripts` defined on it. A `redis-cluster://` URL gives a
 * Cluster client, whose connections to each node are named alike.
 */
export function openRedis(
  url: string,
  role: string,
  logger: Logger,
  scripts: Scripts,
  options: RedisOptions = {},
): RedisClient {
  const connection: RedisOptions = {
    protocol: 2,
    // A command in flight when the connection drops is failed (see `InFlight`), never silently
    // sent twice.
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: null,
    ...options,
    connectionName: `sse-bus:${role}`,
  };
  const nodes = clusterNodes(url);
  const client = nodes
    ? new Cluster(nodes, {
        lazyConnect: true,
        enableOfflineQueue: options.enableOfflineQueue ?? true,
        clusterRetryStrategy: retryStrategy,
        // A failover takes a few seconds: commands wait through it rather than fail at once.
        retryDelayOnFailover: 100,
        retryDelayOnClusterDown: 100,
        retryDelayOnTryAgain: 50,
        maxRedirections: 64,
        redisOptions: connection,
      })
    : new Redis(url, { lazyConnect: true, retryStrategy, ...connection });
  client.on('error', (err: Error) => logger.warn(`Redis ${role}: ${err.message}`));
  for (const [name, script] of Object.entries(scripts)) client.defineCommand(name, script);
  return client;
}

/** Calls `reconnected` every time `client` is connected again, after its first connection. */
export function onReconnect(client: RedisClient, reconnected: () => void): void {
  let connected = false;
  client.on('ready', () => {
    if (connected) reconnected();
    connected = true;
  });
}

/**
 * Quits within `ms`, else drops the connection: a QUIT on one that stopped answering would never
 * be answered either.
 */
export async function closeRedis(client: RedisClient, ms: number): Promise<void> {
  await withDeadline(client.quit(), ms, 'QUIT').catch(() => client.disconnect());
}
