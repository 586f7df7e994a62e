import type * as Shards from '../../dist/bus/channels.js';
import { importBuilt } from '../lib/paths.js';

// The library's own channel → shard mapping, so that the simulation spreads as the bus does.
const { clientChannel, shardOf } = (await importBuilt('bus/channels.js')) as typeof Shards;

export interface Spread {
  /** Busiest instance's targeted messages over the mean. */
  instanceSkew: number;
  /** Busiest shard's messages over the mean. */
  shardSkew: number;
}

/**
 * Sends `messages` targeted messages to random clients of `connections` (ids `c<i>`, each on a
 * random instance, as a load balancer without sticky sessions places them) and counts what each
 * instance and each shard gets: how far the busiest is above the mean.
 */
export function simulateSpread(
  connections: number,
  instances: number,
  shards: number,
  messages: number,
): Spread {
  const perInstance = new Float64Array(instances);
  const perShard = new Float64Array(shards);
  const instanceOf = new Map<number, number>();
  for (let m = 0; m < messages; m++) {
    const client = Math.floor(Math.random() * connections);
    let instance = instanceOf.get(client);
    if (instance === undefined) {
      instance = Math.floor(Math.random() * instances);
      instanceOf.set(client, instance);
    }
    perInstance[instance]++;
    perShard[shardOf(clientChannel(`c${client}`), shards)]++;
  }
  const skew = (counts: Float64Array) =>
    Math.max(...counts) / (counts.reduce((a, b) => a + b, 0) / counts.length);
  return { instanceSkew: skew(perInstance), shardSkew: skew(perShard) };
}
