import { type RedisCluster, startRedisCluster } from '../../test/support/redis-cluster.js';
import { type RedisProcess, startRedis } from '../lib/servers.js';
import { type InterestConfig, runInterest } from './interest.js';
import { type ThroughputConfig, runThroughput } from './publish-throughput.js';
import type { ClusterBenchResult } from './results.js';

const MASTERS = 3;
const SHARDS = 8;

export interface ClusterStepsConfig {
  interest: InterestConfig;
  throughput: ThroughputConfig;
}

export function clusterStepsConfig(smoke: boolean): ClusterStepsConfig {
  return smoke
    ? {
        interest: { clients: 200, instances: 4, messages: 500, dataBytes: 1024, waitCapMs: 30_000 },
        throughput: {
          messages: 3000,
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
          messages: 40_000,
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
    const clusterPids = () => cluster!.nodes.map((node) => node.pid);
    log(`cluster steps: ${MASTERS} masters + replicas, ${SHARDS} shards`);
    result.interest = await runInterest(
      { singleNode: single.url, cluster: cluster.url },
      { masters: MASTERS, shards: SHARDS },
      cfg.interest,
      log,
    );
    const singlePid = single.pid;
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
        {
          label: `cluster, ${SHARDS} shards`,
          redis: 'cluster',
          redisUrl: cluster.url,
          redisPids: clusterPids,
          shards: SHARDS,
          waitReplicas: 0,
        },
        {
          label: `cluster, ${SHARDS} shards, WAIT 1`,
          redis: 'cluster',
          redisUrl: cluster.url,
          redisPids: clusterPids,
          shards: SHARDS,
          waitReplicas: 1,
        },
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
