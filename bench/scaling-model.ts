/**
 * The capacity model of docs/scaling.md: `npm run bench:model [-- options]`.
 *
 * Per-message costs come from the cluster steps of a results file (default: the newest in
 * bench/results that has them), each overridable:
 *   --results FILE           where to read them
 *   --overhead-bytes B       bytes read per message beyond its data
 *   --redis-us U             redis-server CPU per targeted message (masters + replicas), µs
 *   --publisher-us P         publishing Node process CPU per message, µs
 *   --per-instance K         connections per instance (default 19,000: the bench's top level)
 *   --data-bytes S           data bytes of a message (default 1,024)
 *   --shards N               shards of the log (default 8)
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type MeasuredCosts, capacityOf } from './cluster/capacity-model.js';
import { simulateSpread } from './cluster/spread-simulation.js';
import { ROOT } from './lib/paths.js';
import { fmt, table } from './lib/report-parts.js';
import type { BenchResult } from './lib/results.js';

const option = (name: string) => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
};
const numberOption = (name: string) =>
  option(name) === undefined ? undefined : Number(option(name));

function newestWithCluster(): string | undefined {
  const dir = join(ROOT, 'bench/results');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .reverse()
    .map((name) => join(dir, name))
    .find((file) => (JSON.parse(readFileSync(file, 'utf8')) as BenchResult).cluster?.throughput);
}

function measuredCosts(): { costs: MeasuredCosts; source: string } {
  const file = option('--results') ?? newestWithCluster();
  const cluster = file
    ? (JSON.parse(readFileSync(file, 'utf8')) as BenchResult).cluster
    : undefined;
  const interest = cluster?.interest;
  // Under load, over every round: publishes that share their round trips, as in production.
  const runs = (cluster?.throughput?.runs ?? []).filter(
    (r) => r.redis === 'cluster' && r.waitReplicas === 0 && r.inFlight > 1,
  );
  const perMessageUs = (cpuMs: (r: (typeof runs)[number]) => number) =>
    runs.length === 0
      ? undefined
      : (runs.reduce((total, r) => total + cpuMs(r), 0) * 1000) /
        runs.reduce((total, r) => total + r.messages, 0);
  const measured: Partial<MeasuredCosts> = {
    overheadBytes: interest ? interest.allTargetedBytesPerMessage - interest.dataBytes : undefined,
    redisUsPerMessage: perMessageUs((r) => r.redisCpuMs),
    publisherUsPerMessage: perMessageUs((r) => r.nodeCpuMs),
  };
  const costs = {
    overheadBytes: numberOption('--overhead-bytes') ?? measured.overheadBytes,
    redisUsPerMessage: numberOption('--redis-us') ?? measured.redisUsPerMessage,
    publisherUsPerMessage: numberOption('--publisher-us') ?? measured.publisherUsPerMessage,
    connectionsPerInstance: numberOption('--per-instance') ?? 19_000,
  };
  for (const [name, value] of Object.entries(costs)) {
    if (value === undefined) {
      throw new Error(`No ${name}: pass it, or --results with cluster steps`);
    }
  }
  return { costs: costs as MeasuredCosts, source: file ? relative(ROOT, file) : 'options' };
}

const rate = (bytesPerSecond: number) =>
  bytesPerSecond >= 1e9
    ? `${fmt(bytesPerSecond / 1e9)} GB/s`
    : bytesPerSecond >= 1e6
      ? `${fmt(bytesPerSecond / 1e6)} MB/s`
      : `${fmt(bytesPerSecond / 1e3)} kB/s`;

function main(): void {
  const { costs, source } = measuredCosts();
  const dataBytes = numberOption('--data-bytes') ?? 1024;
  const shards = numberOption('--shards') ?? 8;
  console.log(
    `Costs (${source}): ${fmt(costs.overheadBytes, 0)} bytes read per message beyond its data, ` +
      `redis ${fmt(costs.redisUsPerMessage)} µs and publisher ${fmt(costs.publisherUsPerMessage)} µs CPU per targeted message, ` +
      `${fmt(costs.connectionsPerInstance, 0)} connections per instance; ${fmt(dataBytes, 0)}-byte data, ${shards} shards.\n`,
  );
  const rows: string[][] = [];
  const broadcastRows: string[][] = [];
  for (const connections of [1, 1000, 10_000, 100_000, 1_000_000, 10_000_000]) {
    // One targeted message per connection every 100 s: 100k/s at 10M.
    const targetedPerSecond = Math.max(1, connections / 100);
    const capacity = capacityOf(
      { connections, targetedPerSecond, broadcastsPerSecond: 0, dataBytes, shards },
      costs,
    );
    const spread = simulateSpread(
      connections,
      capacity.instances,
      shards,
      Math.min(targetedPerSecond, 200_000),
    );
    rows.push([
      fmt(connections, 0),
      fmt(capacity.instances, 0),
      fmt(targetedPerSecond, 0),
      rate(capacity.readAllBytesPerSecond),
      rate(capacity.interestBytesPerSecond),
      `${rate(capacity.perInstanceBytesPerSecond)} (x${fmt(spread.instanceSkew, 2)})`,
      `${rate(capacity.perShardBytesPerSecond)} (x${fmt(spread.shardSkew, 2)})`,
      fmt(capacity.redisCores, 2),
      fmt(capacity.publisherCores, 2),
    ]);
    const broadcast = capacityOf(
      { connections, targetedPerSecond: 0, broadcastsPerSecond: 1, dataBytes, shards },
      costs,
    );
    broadcastRows.push([
      fmt(connections, 0),
      fmt(broadcast.instances, 0),
      rate(broadcast.broadcastBytesPerSecond),
      rate(broadcast.perInstanceBytesPerSecond),
      fmt(broadcast.framesPerInstancePerSecond, 0),
    ]);
  }
  console.log(
    table(
      [
        'connections',
        'instances',
        'targeted msg/s',
        'Redis out, every instance reads all',
        'Redis out, interest',
        'per instance (busiest / mean)',
        'per shard (busiest / mean)',
        'redis cores',
        'publisher cores',
      ],
      rows,
    ),
  );
  console.log('\nOne broadcast a second (every instance hears each, from shard 0):\n');
  console.log(
    table(
      ['connections', 'instances', 'out of shard 0', 'per instance', 'frames/s per instance'],
      broadcastRows,
    ),
  );
}

main();
