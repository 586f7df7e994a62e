/**
 * The publish throughput section of docs/benchmarks.md: `MessageBus.publish()` through Redis
 * against pipelined `XADD` on one node, from the last results file given that has the step.
 */
import { failedStep, fmt, fmtX, table, verdict } from './report-parts.js';
import type { PublishThroughput } from './results.js';
import { median } from './stats.js';

/** Issue 10: publish reaches at least this share of pipelined `XADD`, in the same run. */
const TARGET_RATIO = 0.8;
/** Issue 16: publishMany() reaches at least this share of it. */
const TARGET_MANY_RATIO = 0.9;

function perSecond(values: number[]): string {
  if (values.length === 0) return '–';
  const range =
    values.length > 1 ? ` (${fmt(Math.min(...values), 0)}–${fmt(Math.max(...values), 0)})` : '';
  return `${fmt(median(values), 0)}${range}`;
}

export function publishSection(step: PublishThroughput, source: string): string {
  const out: string[] = [];
  out.push('## Publish throughput, one node');
  out.push('');
  out.push(
    `From [\`${source}\`](../${source}). One process (pinned where the servers under test go, on its own redis-server) sends ${fmt(step.n, 0)} messages of ~${step.payloadBytes} bytes, ` +
      `${step.inFlight} in flight, ${step.reps} times each way, in turns: with pipelined ioredis \`XADD\` into a scratch stream (entries of the bus's shape, \`MAXLEN ~\`), and with ` +
      '`MessageBus.publish()` of an in-process `SseBusModule` through the Redis transport (its reader reads them back too, until it stops for want of a stream, `SSE_READER_IDLE_MS` (5 s) into the step), and with its `publishMany()` (as many messages in flight, in batches). The ratio is the median over the turns of publishes/s over the `XADD`s/s measured just before; CPU per message is the median over the turns of what the process and redis-server used (/proc). ' +
      '`npm run bench -- --only publish` runs the publish steps alone.',
  );
  out.push('');
  if (step.problem) return failedStep(out, step.problem);
  const cpu = (way: keyof PublishThroughput['cpuUs']) => [
    fmt(step.cpuUs[way]?.node ?? null, 1),
    fmt(step.cpuUs[way]?.redis ?? null, 1),
  ];
  out.push(
    table(
      ['Way', 'msg/s, median (range)', 'CPU/msg, publishing process (µs)', 'CPU/msg, Redis (µs)'],
      [
        ['pipelined ioredis `XADD`', perSecond(step.xaddPerSecond), ...cpu('xadd')],
        [
          `\`MessageBus.publish()\` (${fmt(step.messagesPerScriptCall, 0)} messages per script call)`,
          perSecond(step.publishPerSecond),
          ...cpu('publish'),
        ],
        ...(step.publishManyPerSecond
          ? [
              [
                `\`MessageBus.publishMany()\`, ${step.batch} messages a call`,
                perSecond(step.publishManyPerSecond),
                ...cpu('publishMany'),
              ],
            ]
          : []),
      ],
    ),
  );
  out.push('');
  out.push(
    `publish() / XADD: ${fmtX(step.ratio)} (target ≥ ${fmtX(TARGET_RATIO)}): ${verdict(step.ratio === null ? null : step.ratio >= TARGET_RATIO)}.`,
  );
  if (step.manyRatio !== undefined) {
    out.push('');
    out.push(
      `publishMany() / XADD: ${fmtX(step.manyRatio)} (target ≥ ${fmtX(TARGET_MANY_RATIO)}): ${verdict(step.manyRatio === null ? null : step.manyRatio >= TARGET_MANY_RATIO)}.`,
    );
  }
  out.push('');
  return out.join('\n');
}
