import type { ClusterBenchResult } from './results.js';

/** What makes the cluster steps broken (never that they are slow). */
export function brokenClusterChecks(cluster: ClusterBenchResult): string[] {
  const broken = cluster.problems.map((problem) => `cluster steps: ${problem.split('\n')[0]}`);
  for (const log of [cluster.interest?.singleNode, cluster.interest?.cluster]) {
    if (log && log.wrongClients > 0) {
      broken.push(
        `interest / ${log.redis}: ${log.wrongClients} clients did not get exactly theirs`,
      );
    }
  }
  for (const run of cluster.throughput?.runs ?? []) {
    if (run.failed > 0) broken.push(`throughput / ${run.label}: ${run.failed} publishes failed`);
  }
  return broken;
}
