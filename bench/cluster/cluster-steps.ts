import { type RedisCluster, startRedisCluster } from '../../test/support/redis-cluster.js';
import { type RedisProcess, startRedis } from '../lib/servers.js';
import { type InterestConfig, runInterest } from './interest.js';
import { type PublishTarget, type ThroughputConfig, runThroughput } from './publish-throughput.js';
import type { ClusterBenchResult } from './results.js';

const MASTERS = 3;
const SHARDS = 8;

export interface ClusterStepsConfig {
  interest: InterestConfig;
  /** aloneMessages: publishes one at a time, with WAIT and without. */
  throughput: ThroughputConfig & { aloneMessages: number };
}

export function clusterStepsConfig(smoke: boolean): ClusterStepsConfig {
  return smoke
    ? {
        interest: { clients: 200, instances: 4, messages: 500, dataBytes: 1024, waitCapMs: 30_000 },
        throughput: {
          rounds: 1,
          messages: 3000,
          aloneMessages: 200,
          warmup: 500,
          inFlight: 256,
          dataBytes: 1024,
          clients: 10_000,
        },
      }
    : {
        interest: {
          clients: 2000,
          instances: 4,
          messages: 5000,
          dataBytes: 1024,
          waitCapMs: 90_000,
        },
        throughput: {
          rounds: 3,
          messages: 40_000,
          aloneMessages: 2000,
          warmup: 2000,
          inFlight: 256,
          dataBytes: 1024,
          clients: 100_000,
        },
      };
}

/**
 * The Redis Cluster steps, on one 3-master cluster (a replica each) and one single node beside
 * it: "interest" (what each instance reads) and "cluster publish throughput". Nothing is pinned:
 * a dozen processes share the machine's cores.
 */
export async function runClusterSteps(
  cfg: ClusterStepsConfig,
  log: (line: string) => void,
): Promise<ClusterBenchResult> {
  const result: ClusterBenchResult = { interest: null, throughput: null, problems: [] };
  let cluster: RedisCluster | undefined;
  let single: RedisProcess | undefined;
  try {
    single = await startRedis(undefined);
    cluster = await startRedisCluster(MASTERS);
    log(`cluster steps: ${MASTERS} masters + replicas, ${SHARDS} shards`);
    result.interest = await runInterest(
      { singleNode: single.url, cluster: cluster.url },
      { masters: MASTERS, shards: SHARDS },
      cfg.interest,
      log,
    );
    const singlePid = single.pid;
    const clusterUrl = cluster.url;
    const onCluster = (waitReplicas: number, alone?: { messages: number }): PublishTarget => ({
      label: `cluster, ${SHARDS} shards${waitReplicas ? `, WAIT ${waitReplicas}` : ''}`,
      redis: 'cluster',
      redisUrl: clusterUrl,
      redisPids: () => cluster!.nodes.map((node) => node.pid),
      shards: SHARDS,
      waitReplicas,
      alone,
    });
    const alone = { messages: cfg.throughput.aloneMessages };
    result.throughput = await runThroughput(
      [
        {
          label: 'single node',
          redis: 'single-node',
          redisUrl: single.url,
          redisPids: () => [singlePid],
          shards: null,
          waitReplicas: 0,
        },
        onCluster(0),
        onCluster(1),
        onCluster(0, alone),
        onCluster(1, alone),
      ],
      cfg.throughput,
      log,
    );
  } catch (err) {
    result.problems.push((err as Error).stack ?? String(err));
    log(`cluster steps failed: ${(err as Error).message}`);
  } finally {
    await cluster?.stop();
    await single?.stop();
  }
  return result;
}
