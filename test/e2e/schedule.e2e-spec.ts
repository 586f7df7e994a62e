import { AsyncResource, createHook } from 'node:async_hooks';
import { setImmediate } from 'node:timers/promises';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Interval, ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { SseBusModule } from '../../src/index.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import { RawSseClient } from '../support/sse-client.js';
import { startApp } from '../support/test-app.js';

/**
 * The timers (`setTimeout`'s and `setInterval`'s alike) `run` created that are still pending when
 * it is done, and keep the process alive. What `run` created is what descends from the async
 * resource it runs in: counting every timer created meanwhile would also count those of whatever
 * a test file run before it in this worker left running. Counting
 * `process.getActiveResourcesInfo()` before and after would see others' come and go too: Node's
 * HTTP server keeps an unref'd one for its Date header cache.
 */
async function timersLeftBy(run: () => Promise<void>): Promise<number> {
  const scope = new AsyncResource('timersLeftBy');
  const ours = new Set([scope.asyncId()]);
  const pending = new Map<number, NodeJS.Timeout>();
  const hook = createHook({
    init: (id, type, trigger, resource) => {
      if (!ours.has(trigger)) return;
      ours.add(id);
      if (type === 'Timeout') pending.set(id, resource as NodeJS.Timeout);
    },
    destroy: (id) => pending.delete(id),
  }).enable();
  try {
    await scope.runInAsyncScope(run);
    // Destroy hooks of cleared timers are emitted on the next turn.
    await setImmediate();
  } finally {
    hook.disable();
  }
  return [...pending.values()].filter((timer) => timer.hasRef()).length;
}

describe('scheduled jobs', () => {
  let redis: RedisServer;
  beforeAll(async () => (redis = await startRedis()));
  afterAll(() => redis?.stop());

  it.each([
    ['the embedded bus', false, ['sse-bus:history-retention', 'sse-bus:membership-retention']],
    [
      'Redis',
      true,
      ['sse-bus:history-retention', 'sse-bus:membership-retention', 'sse-bus:presence-refresh'],
    ],
  ])('on %s, run while the app does and leave no timer behind', async (_, withRedis, jobs) => {
    const left = await timersLeftBy(async () => {
      const app = await startApp({
        redisUrl: withRedis ? redis.url : undefined,
        historyMaxAgeMs: 1000,
        presenceTtlMs: 300,
        heartbeatMs: 50,
      });
      const registry = app.app.get(SchedulerRegistry);
      expect(registry.getIntervals().sort()).toEqual(jobs);
      const client = new RawSseClient(`${app.url}/sse/msg`);
      await client.waitForEvents(1);
      await app.bus.publish('one');
      await client.waitForEvents(2);
      client.close();
      await app.close();
      expect(registry.getIntervals()).toEqual([]);
    });
    expect(left).toBe(0);
  });

  it("leaves an app's own ScheduleModule alone: its jobs run once, and its registry is its own", async () => {
    @Injectable()
    class Chores {
      constructor(readonly registry: SchedulerRegistry) {}

      @Interval('chores', 4321)
      tick(): void {}
    }
    @Module({
      imports: [ScheduleModule.forRoot(), SseBusModule.forRoot({ historyMaxAgeMs: 1000 })],
      providers: [Chores],
    })
    class AppModule {}

    const setInterval = globalThis.setInterval;
    let chores = 0;
    globalThis.setInterval = ((handler: () => void, ms: number) => {
      if (ms === 4321) chores++;
      return setInterval(handler, ms);
    }) as typeof globalThis.setInterval;
    try {
      const left = await timersLeftBy(async () => {
        const app = await NestFactory.create(AppModule, new FastifyAdapter(), { logger: false });
        await app.init();
        expect(chores).toBe(1);
        expect(app.get(Chores).registry.getIntervals()).toEqual(['chores']);
        await app.close();
      });
      expect(left).toBe(0);
    } finally {
      globalThis.setInterval = setInterval;
    }
  });
});
