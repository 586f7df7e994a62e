import type { Redis } from 'ioredis';

/** A connection a Redis server has, as `CLIENT LIST` shows it. */
export interface ClientInfo {
  readonly id: string;
  readonly addr: string;
}

/** The connections `redis` has from the bus's `role`: those named `sse-bus:<role>`. */
export async function busConnections(redis: Redis, role: string): Promise<ClientInfo[]> {
  return String(await redis.call('CLIENT', 'LIST'))
    .split('\n')
    .filter((line) => line.includes(` name=sse-bus:${role} `))
    .map((line) => ({ id: /^id=(\d+)/.exec(line)![1], addr: /\baddr=(\S+)/.exec(line)![1] }));
}
