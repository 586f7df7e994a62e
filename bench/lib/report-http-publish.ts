/**
 * The HTTP publish section of docs/benchmarks.md: server CPU per `POST /sse/publish` against a
 * bare Fastify route, at few and many streams, and batches, from the last results file given
 * that has the step.
 */
import { failedStep, fmt, fmtX, table, verdict } from './report-parts.js';
import type { HttpPublishMode, HttpPublishResult } from './results.js';

/** Issue 16: a publish's server CPU over the bare route's, at most, by mode. */
const TARGET_OVER_BARE = { embedded: 1.5, redis: 2 } as const;
/** Issue 16: at the many streams, over the few, at most. */
const TARGET_MANY_OVER_FEW = 1.2;
/** Issue 16: messages per second from one instance over HTTP, in batches of 100, at least. */
const TARGET_BATCH_PER_SECOND = 50_000;

const met = (value: number | null, ok: (value: number) => boolean) =>
  verdict(value === null ? null : ok(value));

export function httpPublishSection(
  step: HttpPublishResult,
  source: string,
  xaddPerSecond: number | null,
): string {
  const [few, many] = step.streams;
  const out: string[] = ['## Publish over HTTP', ''];
  out.push(
    `From [\`${source}\`](../${source}). The service as it runs by default (\`${['node', ...(step.nodeFlags ?? []), 'dist/service/main.js'].join(' ')}\`, \`LOG_LEVEL=info\`, JSON logs to a pipe), and a bare Fastify route that parses the same body and answers \`202\` (\`bench/baselines/bare-fastify-publish.ts\`), each pinned where the servers under test go. ` +
      `A process of its own where the load goes sends targeted messages of ~${step.payloadBytes} bytes over ${step.concurrency} keep-alive connections, one request in flight on each: ${fmt(step.requests, 0)} measured requests (after ${fmt(step.warmup, 0)}), ${step.reps} times each way, in turns; server CPU is its utime + stime (/proc) over the measured requests. ` +
      `First with no stream open (the HTTP path alone: the bare route delivers nothing either), ${step.processes ?? 1} service processes of the same build (each on a Redis of its own), each turn the bare route then every process in an order that rotates, as two processes of one build can sit 20% apart: the figure is the median of the processes' medians; then, on the first process alone, with ${fmt(few, 0)} streams open, each message delivered to one (a write to its socket), then with ${fmt(many, 0)}${step.manyAgainstBare ? ' (each of their turns after a turn of the bare route: the ratio of many to few is of each against its bare turns, as the speed of a shared box drifts between the two)' : ''}; ${fmt(step.batchRequests, 0)} requests of ${step.batch} messages each, with no stream open (publishing alone, as pipelined \`XADD\` does) and at ${fmt(many, 0)} streams (each message delivered)${step.modes.some((m) => m.batchMessagesPerSecondTurns) ? `, ${step.reps} times each, the median` : ''}. ` +
      '`npm run bench -- --only publish` runs the publish steps alone.',
  );
  out.push('');
  if (step.problem) return failedStep(out, step.problem);
  const row = (m: HttpPublishMode) => [
    m.mode,
    fmt(m.bareUsPerRequest, 1),
    fmt(m.noStreamUsPerRequest, 1),
    `${fmtX(m.publishOverBare)} (≤ ${fmtX(TARGET_OVER_BARE[m.mode])}): ${met(m.publishOverBare, (x) => x <= TARGET_OVER_BARE[m.mode])}${m.publishOverBareByProcess ? `; by process ${m.publishOverBareByProcess.map(fmtX).join(', ')}` : ''}`,
    `${fmt(m.publishUsPerRequest, 1)} (${fmtX(m.deliveredOverBare)})`,
    fmt(m.manyStreamsUsPerRequest, 1),
    `${fmtX(m.manyOverFew)} (≤ ${fmtX(TARGET_MANY_OVER_FEW)}): ${met(m.manyOverFew, (x) => x <= TARGET_MANY_OVER_FEW)}`,
    `${fmt(m.batchMessagesPerSecond, 0)}${m.mode === 'redis' ? ` (≥ ${fmt(TARGET_BATCH_PER_SECOND, 0)}): ${met(m.batchMessagesPerSecond, (x) => x >= TARGET_BATCH_PER_SECOND)}` : ''}${m.batchMessagesPerSecondTurns ? `; turns ${fmt(Math.min(...m.batchMessagesPerSecondTurns), 0)}–${fmt(Math.max(...m.batchMessagesPerSecondTurns), 0)}` : ''}`,
    fmt(m.batchUsPerMessage, 1),
    `${fmt(m.deliveredBatchMessagesPerSecond, 0)} (${fmt(m.deliveredBatchUsPerMessage, 1)} µs/msg)`,
  ];
  out.push(
    table(
      [
        'Bus',
        'bare Fastify, CPU µs/request',
        'publish, no stream open',
        'publish / bare',
        `publish, ${fmt(few, 0)} streams (/ bare)`,
        `publish, ${fmt(many, 0)} streams`,
        `${fmt(many, 0)} / ${fmt(few, 0)}`,
        `batches of ${step.batch}, no stream, msg/s`,
        'batches, CPU µs/msg',
        `batches at ${fmt(many, 0)} streams, msg/s`,
      ],
      step.modes.map(row),
    ),
  );
  const compared = step.modes.filter((m) => m.publishOverBefore !== undefined);
  if (compared.length > 0) {
    out.push(
      '',
      `The previous build (\`--before\`), one process in the same turns, with no stream open: ${compared
        .map(
          (m) =>
            `${m.mode} ${fmtX(m.beforeOverBare ?? null)} the bare route, this build ${fmtX(m.publishOverBefore ?? null)} it`,
        )
        .join('; ')} (the median over the turns of this build's processes' median against it).`,
    );
  }
  out.push('');
  out.push(
    `Pipelined \`XADD\` in the same run (the publish throughput step above): ${fmt(xaddPerSecond, 0)} msg/s.`,
  );
  out.push('');
  return out.join('\n');
}
