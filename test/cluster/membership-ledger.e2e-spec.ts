/**
 * The ledger of topics joined and left at run time (see test/e2e/membership-ledger.e2e-spec.ts),
 * on two instances over the six-node Redis Cluster, with the rule of a sharded log
 * (`shardedLog`): per shard, from the positions the ids name. A topic's messages count for the
 * client from the change that joins it to the one that leaves it, by the positions the change's
 * id names on that topic's shard; a message to the client, by the change's position on the
 * client's shard. Ids are each stream's own, so their order is checked per (publisher, channel).
 * Two kinds of message are left out, as the README's limits on a cluster say they may be given
 * or not while a change is being read: one on topics on several shards, and one to the client on
 * a topic on another shard than the client's.
 */
import { NUMERIC_OPTIONS } from '../../src/config/sse-bus.options.js';
import { describeMembershipLedger } from '../support/membership-ledger-suite.js';
import { startRedisCluster } from '../support/redis-cluster.js';
import { shardedLog } from '../support/sharded-ledger-rule.js';

describeMembershipLedger('the membership ledger on a Redis Cluster', {
  startRedis: () => startRedisCluster(),
  rule: shardedLog(NUMERIC_OPTIONS.redisShards.default!),
  without: ['t1+sport', 'alice@t2'],
});
