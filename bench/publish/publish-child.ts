/**
 * The publish throughput step's own process: `MessageBus.publish()`, and `publishMany()` in
 * batches, in-process through the Redis transport, against what ioredis gets from a pipelined `XADD` of entries of the same shape into
 * a scratch stream of the same Redis, in turns, with the same messages in flight. Prints its
 * figures as one line of JSON.
 *
 * Argument: the step's settings as JSON (`PublishChildSettings`).
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import type * as Library from '../../dist/index.js';
import { importBuilt } from '../lib/paths.js';
import { cpuMs } from '../lib/proc.js';
import { scriptCalls } from '../lib/script-calls.js';
import type { PublishChildReport, PublishChildSettings, Turn } from './publish-settings.js';

const { MessageBus, SseBusModule } = (await importBuilt('index.js')) as typeof Library;
const settings = JSON.parse(process.argv[2]) as PublishChildSettings;
const PREFIX = 'bench-publish';
const MAX_LENGTH = 10_000;

/**
 * `n` messages, `size` a send, with `inFlight` messages waiting at any time: how many went per
 * second, and the CPU this process and Redis spent per message.
 */
async function saturate(n: number, send: (i: number) => Promise<unknown>, size = 1): Promise<Turn> {
  let next = 0;
  const redisCpu = cpuMs(settings.redisPid);
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.max(1, Math.round(settings.inFlight / size)) }, async () => {
      while (next < n) {
        const i = next;
        next += size;
        await send(i);
      }
    }),
  );
  const elapsedMs = performance.now() - started;
  const { user, system } = process.cpuUsage(cpu);
  return {
    perSecond: n / (elapsedMs / 1000),
    nodeCpuUs: (user + system) / n,
    redisCpuUs: ((cpuMs(settings.redisPid) - redisCpu) * 1000) / n,
  };
}

// ~payloadBytes of JSON, as the bus writes it.
const payload = 'x'.repeat(settings.payloadBytes - 2);
const data = JSON.stringify(payload);
const redis = new Redis(settings.redisUrl);
const app = await NestFactory.createApplicationContext(
  SseBusModule.forRoot({
    redisUrl: settings.redisUrl,
    redisKeyPrefix: PREFIX,
    historyMaxLength: MAX_LENGTH,
  }),
  { logger: ['fatal', 'error', 'warn'] },
);
const bus = app.get(MessageBus);
const [epoch] = (await bus.publish(payload)).split('.');

// The entry the log writes for a broadcast: one field, its epoch, four empty fields and its data.
const entry = `${epoch}\x1f\x1f\x1f\x1f\x1f${data}`;
const xadd = (n: number) =>
  saturate(n, () =>
    redis.xadd(`${PREFIX}:scratch`, 'MAXLEN', '~', String(MAX_LENGTH), '*', 'm', entry),
  );
const publish = (n: number) => saturate(n, () => bus.publish(payload));
const batch = Array.from({ length: settings.batch }, () => ({ data: payload }));
const publishMany = (n: number) => saturate(n, () => bus.publishMany(batch), settings.batch);

await xadd(settings.warmup);
await publish(settings.warmup);
await publishMany(settings.warmup);
const report: PublishChildReport = { xadd: [], publish: [], publishMany: [], scriptCalls: 0 };
for (let rep = 0; rep < settings.reps; rep++) {
  report.xadd.push(await xadd(settings.n));
  const calls = await scriptCalls(redis);
  report.publish.push(await publish(settings.n));
  report.scriptCalls += (await scriptCalls(redis)) - calls;
  report.publishMany.push(await publishMany(settings.n));
}
await app.close();
redis.disconnect();
console.log(JSON.stringify(report));
