/**
 * The ledger of topics joined and left at run time (see test/e2e/membership-ledger.e2e-spec.ts),
 * on two instances over the six-node Redis Cluster, with the rule of a sharded log
 * (`shardedLog`): per shard, from the positions the ids name. A topic's messages count for the
 * client from the change that joins it to the one that leaves it, by the positions the change's
 * id names on that topic's shard; a message to the client, by the change's position on the
 * client's shard (so one to the client on a topic on another shard counts by the changes in
 * the client shard's order, whenever the leaves' markers are read). Ids are each stream's own, so
 * their order is checked per (publisher, channel). A message on topics on several shards is left
 * out, as the README's limits on a cluster say it may be given twice or not at all while a change
 * is being read.
 */
import { NUMERIC_OPTIONS } from '../../src/config/sse-bus.options.js';
import { describeMembershipLedger } from '../support/membership-ledger-suite.js';
import { startRedisCluster } from '../support/redis-cluster.js';
import { shardedLog } from '../support/sharded-ledger-rule.js';

describeMembershipLedger('the membership ledger on a Redis Cluster', {
  startRedis: () => startRedisCluster(),
  rule: shardedLog(NUMERIC_OPTIONS.redisShards.default!),
  without: ['t1+sport'],
});
