import type { Provider } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { BusCounters } from './bus/bus-counters.js';
import { BusTransport } from './bus/bus-transport.js';
import { ClientGate } from './bus/client-gate.js';
import { ClientRouter } from './bus/client-router.js';
import { MemoryClientGate } from './bus/memory-client-gate.js';
import { MemoryTransport } from './bus/transports/memory.transport.js';
import { RedisTransport } from './bus/transports/redis.transport.js';
import { ShardedRedisTransport } from './bus/transports/sharded-redis.transport.js';
import { clusterNodes } from './config/redis-url.js';
import {
  type ResolvedSseBusOptions,
  type SseBusOptions,
  resolveSseBusOptions,
  SSE_BUS_OPTIONS,
} from './config/sse-bus.options.js';
import { MemoryPresenceStore } from './presence/memory-presence.store.js';
import { PresenceStore } from './presence/presence-store.js';
import { RedisClientGate } from './presence/redis-client-gate.js';
import { RedisPresenceStore } from './presence/redis-presence.store.js';
import { SSE_BUS_MODULE_OPTIONS } from './sse-bus.module-definition.js';

/** How long the Redis reader blocks in one `XREAD`, and how long any command may take. */
const REDIS_BLOCK_MS = 2_000;
const REDIS_COMMAND_TIMEOUT_MS = 3_000;
/** How often each shard's subscription is pinged: as often as a single node's reader answers. */
const SHARD_PING_MS = 2_000;

function createTransport(options: ResolvedSseBusOptions, counters: BusCounters): BusTransport {
  const { redisUrl, redisKeyPrefix: keyPrefix, historyMaxLength: maxLength } = options;
  const idempotency = {
    windowMs: options.idempotencyWindowMs,
    maxKeys: options.idempotencyMaxKeys,
  };
  const { membershipTtlMs } = options;
  if (!redisUrl) {
    return new MemoryTransport(maxLength, options.historyMaxBytes, idempotency, membershipTtlMs);
  }
  if (clusterNodes(redisUrl)) {
    return new ShardedRedisTransport({
      url: redisUrl,
      keyPrefix,
      maxLength,
      idempotency,
      membershipTtlMs,
      shards: options.redisShards,
      waitReplicas: options.redisWaitReplicas,
      pingMs: SHARD_PING_MS,
      commandTimeoutMs: REDIS_COMMAND_TIMEOUT_MS,
      counters,
    });
  }
  return new RedisTransport({
    url: redisUrl,
    keyPrefix,
    maxLength,
    idempotency,
    membershipTtlMs,
    recentMaxBytes: options.historyMaxBytes,
    blockMs: REDIS_BLOCK_MS,
    idleMs: options.readerIdleMs,
    commandTimeoutMs: REDIS_COMMAND_TIMEOUT_MS,
    counters,
  });
}

function createPresenceStore(
  options: ResolvedSseBusOptions,
  router: ClientRouter,
  registry: SchedulerRegistry,
): PresenceStore {
  if (!options.redisUrl) return new MemoryPresenceStore(router);
  return new RedisPresenceStore(router, registry, {
    url: options.redisUrl,
    keyPrefix: options.redisKeyPrefix,
    ttlMs: options.presenceTtlMs,
    commandTimeoutMs: REDIS_COMMAND_TIMEOUT_MS,
  });
}

/** Across instances, the gate counts the streams of the instances presence says are alive. */
function createClientGate(options: ResolvedSseBusOptions, store: PresenceStore): ClientGate {
  if (!(store instanceof RedisPresenceStore)) return new MemoryClientGate();
  return new RedisClientGate({
    url: options.redisUrl!,
    keyPrefix: options.redisKeyPrefix,
    instanceId: store.instanceId,
    commandTimeoutMs: REDIS_COMMAND_TIMEOUT_MS,
  });
}

/** The bus's parts that are made from the options rather than injected as they are. */
export const SSE_BUS_PROVIDERS: Provider[] = [
  {
    provide: SSE_BUS_OPTIONS,
    useFactory: (options: SseBusOptions) => resolveSseBusOptions(options),
    inject: [SSE_BUS_MODULE_OPTIONS],
  },
  { provide: BusTransport, useFactory: createTransport, inject: [SSE_BUS_OPTIONS, BusCounters] },
  {
    provide: ClientRouter,
    useFactory: (transport: BusTransport, counters: BusCounters) =>
      new ClientRouter(transport.events$, counters),
    inject: [BusTransport, BusCounters],
  },
  {
    provide: PresenceStore,
    useFactory: createPresenceStore,
    inject: [SSE_BUS_OPTIONS, ClientRouter, SchedulerRegistry],
  },
  { provide: ClientGate, useFactory: createClientGate, inject: [SSE_BUS_OPTIONS, PresenceStore] },
];
