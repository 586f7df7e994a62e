/**
 * A child process of the bench: an app context with `SseBusModule` on the given Redis, which
 * publishes targeted messages through `MessageBus.publish()` with a fixed number in flight, and
 * sends back what it measured.
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type * as Library from '../../dist/index.js';
import { importBuilt } from '../lib/paths.js';
import { summarize } from '../lib/stats.js';
import type { LatencySummary } from '../lib/stats.js';

const { MessageBus, SseBusModule } = (await importBuilt('index.js')) as typeof Library;

export interface PublishJob {
  redisUrl: string;
  prefix: string;
  shards: number;
  waitReplicas: number;
  warmup: number;
  messages: number;
  inFlight: number;
  dataBytes: number;
  /** Recipients are drawn from `c0` … `c<clients - 1>`. */
  clients: number;
}

export interface PublishOutcome {
  failed: number;
  errors: string[];
  elapsedMs: number;
  latency: LatencySummary;
  cpuMs: number;
}

async function publishAll(
  bus: Library.MessageBus,
  job: PublishJob,
  count: number,
  latencies: number[] | undefined,
  errors: Set<string>,
): Promise<number> {
  const pad = 'x'.repeat(job.dataBytes - 20);
  let next = 0;
  let failed = 0;
  const worker = async () => {
    for (let seq = next++; seq < count; seq = next++) {
      const to = `c${Math.floor(Math.random() * job.clients)}`;
      const start = process.hrtime.bigint();
      try {
        await bus.publish({ seq, p: pad }, { clientId: to });
        latencies?.push(Number(process.hrtime.bigint() - start) / 1e6);
      } catch (err) {
        failed++;
        errors.add((err as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: job.inFlight }, worker));
  return failed;
}

async function run(job: PublishJob): Promise<PublishOutcome> {
  @Module({
    imports: [
      SseBusModule.forRoot({
        redisUrl: job.redisUrl,
        redisKeyPrefix: job.prefix,
        redisShards: job.shards,
        redisWaitReplicas: job.waitReplicas,
        metrics: false,
      }),
    ],
  })
  class PublishModule {}

  const app = await NestFactory.createApplicationContext(PublishModule, { logger: false });
  try {
    const bus = app.get(MessageBus);
    const errors = new Set<string>();
    await publishAll(bus, job, job.warmup, undefined, errors);
    const latencies: number[] = [];
    // The parent reads the redis-servers' CPU at these marks.
    process.send!({ phase: 'measuring' });
    const cpu = process.cpuUsage();
    const started = process.hrtime.bigint();
    const failed = await publishAll(bus, job, job.messages, latencies, errors);
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    const used = process.cpuUsage(cpu);
    process.send!({ phase: 'measured' });
    return {
      failed,
      errors: [...errors].slice(0, 5),
      elapsedMs,
      latency: summarize(latencies),
      cpuMs: (used.user + used.system) / 1000,
    };
  } finally {
    await app.close();
  }
}

process.once('message', (job: PublishJob) => {
  run(job).then(
    (outcome) => process.send!({ ok: true, outcome }, () => process.exit(0)),
    (err: Error) => process.send!({ ok: false, error: err.stack }, () => process.exit(1)),
  );
});
