import { fmt, fmtX, table, verdict } from '../lib/report-parts.js';
import type { BenchResult } from '../lib/results.js';
import type { InterestResult, ThroughputResult } from './results.js';

const MB = 1e6;

function interestPart(interest: InterestResult): string[] {
  const worst = Math.max(...interest.cluster.instances.map((i) => i.ratio ?? Infinity));
  const rows = [interest.singleNode, interest.cluster].flatMap((log) =>
    log.instances.map((instance, i) => [
      i === 0
        ? log.redis === 'cluster'
          ? `cluster (${interest.masters} masters, ${interest.shards} shards)`
          : 'single node (XREAD)'
        : '',
      `#${i}`,
      fmt(instance.clients, 0),
      fmt(instance.readBytes / MB, 2),
      fmtX(instance.ratio),
      i === 0 ? `${fmt(log.delivered, 0)}, ${log.wrongClients} wrong` : '',
    ]),
  );
  return [
    '### Interest: what each instance reads',
    '',
    `${fmt(interest.clients, 0)} clients, each its own id, spread evenly over ${interest.instances} instances; ` +
      `${fmt(interest.messages, 0)} messages of ~${fmt(interest.dataBytes / 1024, 0)} KiB data, each to one client chosen at random, ` +
      'POSTed to instance #0. Read bytes: the delta of `sse_bus_redis_read_bytes_total` over the publishes; ' +
      `the ratio is over what an instance reading the whole log read for the same traffic (the single node's median, ` +
      `${fmt(interest.allTargetedBytes / MB, 2)} MB, ${fmt(interest.allTargetedBytesPerMessage, 0)} bytes a message). ` +
      `Ideal ${fmtX(interest.idealRatio)}; target: each instance at most ${fmtX(interest.targetRatio)} — ${verdict(worst <= interest.targetRatio)} (worst ${fmtX(worst)}). ` +
      'Delivered: messages counted at the clients; "wrong": clients that did not get exactly their own messages, each once.',
    '',
    table(['log', 'instance', 'clients', 'read MB', 'of all', 'delivered'], rows),
    '',
  ];
}

function throughputPart(throughput: ThroughputResult): string[] {
  const rows = throughput.runs.map((run) => [
    run.label,
    String(run.round),
    fmt(run.inFlight, 0),
    fmt(run.messages, 0),
    fmt(run.perSecond, 0),
    `${fmt(run.latency.p50)} / ${fmt(run.latency.p99)}`,
    `${fmt(run.nodeCpuMs, 0)} (${fmt((run.nodeCpuMs / run.elapsedMs) * 100, 0)}%)`,
    `${fmt(run.redisCpuMs, 0)}`,
    fmt(run.loadAverage),
    fmt(run.failed, 0),
  ]);
  return [
    '### Cluster publish throughput',
    '',
    '`MessageBus.publish()` in a Node process of its own (an app context with `SseBusModule`), ' +
      `with ${Math.max(...throughput.runs.map((run) => run.inFlight))} publishes in flight (throughput) ` +
      'or one at a time (what a publish costs without a queue, and what `redisWaitReplicas: 1` adds to it), ' +
      `each to a random client id, ~${fmt(throughput.dataBytes / 1024, 0)} KiB data. Node CPU: the publishing process during the publishes (and its share of the wall time); ` +
      'redis CPU: all redis-servers of the log (the cluster: masters and replicas) over the same publishes; ' +
      'load: the machine’s 1-minute load average after the run (2 cores: above 2, processes wait for a core). ' +
      `Target: the cluster at least ${fmtX(throughput.targetRatio)} the single node for targeted traffic — ` +
      `${verdict(throughput.clusterOverSingle === null ? null : throughput.clusterOverSingle >= throughput.targetRatio)} (${fmtX(throughput.clusterOverSingle)}, the median of the rounds' ratios; ` +
      'every other round runs the logs in reverse order).',
    '',
    table(
      [
        'log',
        'round',
        'in flight',
        'messages',
        'msg/s',
        'publish p50 / p99 ms',
        'node CPU ms',
        'redis CPU ms',
        'load',
        'failed',
      ],
      rows,
    ),
    '',
  ];
}

/** The Redis Cluster section of the report, from the run that has it. */
export function clusterSection(result: BenchResult, source: string): string {
  const cluster = result.cluster!;
  const out = [
    '## Redis Cluster',
    '',
    `From [\`${source}\`](../${source}) (\`${result.meta.command}\`). A real local cluster (3 masters, a replica each, ` +
      '`redis-server` 7) and a single node beside it, nothing pinned: the service instances, six redis-servers and the ' +
      'bench share the machine’s cores. The design and a capacity model: [scaling.md](scaling.md).',
    '',
  ];
  if (cluster.interest) out.push(...interestPart(cluster.interest));
  if (cluster.throughput) out.push(...throughputPart(cluster.throughput));
  for (const problem of cluster.problems) out.push(`Problem: ${problem.split('\n')[0]}`, '');
  return out.join('\n');
}
