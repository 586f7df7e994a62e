/**
 * The steering section of docs/benchmarks.md: server CPU per change of one client's topics at a
 * few open streams and at many, and the changes per second of many clients, from the last results
 * file given that has the step.
 */
import { failedStep, fmt, fmtX, table, verdict } from './report-parts.js';
import type { SteeringMode, SteeringResult } from './results.js';

/** Issue 15: a change of one client's topics at the many streams, over the few, at most. */
const TARGET_MANY_OVER_FEW = 1.2;

const range = (values: number[]) => `${fmt(Math.min(...values), 1)}–${fmt(Math.max(...values), 1)}`;

export function steeringSection(step: SteeringResult, source: string): string {
  const [few, many] = step.streams;
  const out: string[] = ["## Steering a client's streams", ''];
  out.push(
    `From [\`${source}\`](../${source}). Two instances of the service (\`node dist/service/main.js\`), pinned where the servers under test go, on the embedded bus, each on a redis-server of its own, or both on a Redis Cluster (3 masters, a replica each, not pinned; each instance under a key prefix of its own), where a change also takes its client's lock and marks the topic's shard: one with ${fmt(few, 0)} streams open, one with ${fmt(many, 0)}, each stream of a client of its own. ` +
      `A process of its own where the load goes opens ${step.clientStreams} streams of one more client on each, then joins that client to a topic and has it leave it (\`POST /sse/clients/:clientId/topics\`), ${fmt(step.pairs, 0)} pairs (after ${fmt(step.warmupPairs, 0)}), one change at a time, each waited for until every stream of the client has its \`topics\` event (checked): ` +
      `${step.reps} times on each instance, in turns. Server CPU per change is its utime + stime (/proc) over the measured changes, by the number of changes: the request, the change in the log, and its \`topics\` events (median, and range, over the turns); the ratio is the median over the turns of ${fmt(many, 0)} / ${fmt(few, 0)}, each against the turn just before. ` +
      `Then, on the instance with ${fmt(many, 0)} streams, ${fmt(step.requests, 0)} changes (after ${fmt(step.warmup, 0)}) of those clients' topics, each joining a topic and, the next time round, leaving it, ${step.concurrency} requests in flight over keep-alive connections: changes per second one instance takes, and its CPU per change. ` +
      '`npm run bench -- --only steering` runs this step alone.',
  );
  out.push('');
  if (step.problem) return failedStep(out, step.problem);
  const row = (m: SteeringMode) => [
    m.mode,
    `${fmt(m.fewUsPerChange, 1)} (${range(m.fewUs)})`,
    `${fmt(m.manyUsPerChange, 1)} (${range(m.manyUs)})`,
    `${fmtX(m.manyOverFew)} (≤ ${fmtX(TARGET_MANY_OVER_FEW)}): ${verdict(m.manyOverFew === null ? null : m.manyOverFew <= TARGET_MANY_OVER_FEW)}`,
    `${fmt(m.fewP50Ms, 2)} / ${fmt(m.manyP50Ms, 2)}`,
    fmt(m.changesPerSecond, 0),
    fmt(m.throughputUsPerChange, 1),
  ];
  out.push(
    table(
      [
        'Bus',
        `one client's change, CPU µs, ${fmt(few, 0)} streams`,
        `at ${fmt(many, 0)} streams`,
        `${fmt(many, 0)} / ${fmt(few, 0)}`,
        `p50 ms to its streams, ${fmt(few, 0)} / ${fmt(many, 0)}`,
        `changes/s, many clients, ${step.concurrency} in flight`,
        'CPU µs a change',
      ],
      step.modes.map(row),
    ),
  );
  out.push('');
  return out.join('\n');
}
