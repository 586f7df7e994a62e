import { Logger } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import { byShard, channelsOf, clientChannel, shardOf } from '../../src/bus/channels.js';
import { parseEntryId } from '../../src/bus/log-position.js';
import { toOutgoingMessage } from '../../src/bus/message-validation.js';
import { RedisLog } from '../../src/bus/transports/redis-log.js';
import { LOG_SCRIPTS, type LogScripts } from '../../src/bus/transports/redis-log.scripts.js';
import { parseVectorId } from '../../src/bus/vector-id.js';
import { openRedis } from '../../src/redis/redis-connection.js';
import { RedisWatchdog } from '../../src/redis/redis-watchdog.js';
import { type RedisCluster, startRedisCluster } from '../support/redis-cluster.js';
import { RawSseClient } from '../support/sse-client.js';
import { type TestApp, startApp } from '../support/test-app.js';
import { entryData } from '../support/log-entry.js';

const SHARDS = 8;
const PREFIX = 'cluster-idempotency';
const IDEMPOTENCY = { windowMs: 60_000, maxKeys: 1000 };

/** Two client ids whose channels are on different shards. */
function onTwoShards(): [string, string] {
  const first = 'user-0';
  const shard = shardOf(clientChannel(first), SHARDS);
  for (let n = 1; ; n++) {
    if (shardOf(clientChannel(`user-${n}`), SHARDS) !== shard) return [first, `user-${n}`];
  }
}

describe('idempotency keys on a Redis Cluster', () => {
  let cluster: RedisCluster;
  let client: Cluster & LogScripts;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    cluster = await startRedisCluster();
    client = openRedis(cluster.url, 'test', new Logger('test'), LOG_SCRIPTS) as Cluster &
      LogScripts;
    await client.connect();
    const options = { redisUrl: cluster.url, redisKeyPrefix: PREFIX, redisShards: SHARDS };
    [a, b] = await Promise.all([startApp(options), startApp(options)]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    client?.disconnect();
    await cluster?.stop();
  });

  /** The log of one shard, written as the bus writes it. */
  const shardLog = (shard: number) =>
    new RedisLog({
      writer: { redis: client, commands: new RedisWatchdog(client, 3000) },
      hashTag: `{${PREFIX}:${shard}}`,
      maxLength: 10_000,
      idempotency: IDEMPOTENCY,
      membershipTtlMs: 60_000,
      shard,
      waitReplicas: 0,
      commandTimeoutMs: 3000,
    });
  const entriesWith = async (shard: number, data: string) => {
    const entries = await client.xrange(`{${PREFIX}:${shard}}:log`, '-', '+');
    return entries.filter(([, fields]) => entryData(fields) === data);
  };

  it('completes a publish that reached only some shards on the others, and on no others', async () => {
    const [alice, bob] = onTwoShards();
    const [aliceShard, bobShard] = [alice, bob].map((id) => shardOf(clientChannel(id), SHARDS));
    const streams = [
      new RawSseClient(`${a.url}/orders/events`, { 'x-user': alice }),
      new RawSseClient(`${b.url}/orders/events`, { 'x-user': bob }),
    ];
    await Promise.all(streams.map((stream) => stream.waitForEvents(1)));
    const data = { order: 1 };
    const options = { clientId: [alice, bob], idempotencyKey: 'order-1' };

    // A publish that failed after it reached alice's shard alone.
    const message = toOutgoingMessage(data, options, 64 * 1024);
    const channels = byShard(channelsOf(message), SHARDS).get(aliceShard)!;
    const partial = await shardLog(aliceShard).append(
      { message, channels, spread: String(SHARDS) },
      5000,
    );
    await streams[0].waitForEvent((event) => event.data === '{"order":1}', 'the partial copy');

    // The retry, on the other instance: alice's shard answers its entry, bob's appends.
    const id = await b.bus.publish(data, options);
    expect(parseVectorId(id)!.positions.get(aliceShard)).toEqual(parseEntryId(partial.entryId));
    await expect(a.bus.publish(data, options)).resolves.toBe(id);
    for (const shard of [aliceShard, bobShard]) {
      expect(await entriesWith(shard, '{"order":1}')).toHaveLength(1);
    }

    // Beside it, a normal publish: each stream has the message once, then that one.
    await a.bus.publish({ marker: 1 }, { clientId: [alice, bob] });
    for (const stream of streams) {
      await stream.waitForEvent((event) => event.data === '{"marker":1}', 'the marker');
      expect(stream.messages).toEqual([data, { marker: 1 }]);
      stream.close();
    }
  });
});
