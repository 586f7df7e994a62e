import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { type ResolvedSseBusOptions, SSE_BUS_OPTIONS } from '../config/sse-bus.options.js';
import { IntervalJob } from '../schedule/interval-job.js';
import { BusTransport } from './bus-transport.js';

/**
 * How often the history is trimmed by age: a quarter of the age, so a message outlives it by a
 * quarter at most; never more often than every 10 ms nor less than every minute.
 */
export function retentionIntervalMs(maxAgeMs: number): number {
  return Math.min(60_000, Math.max(10, Math.floor(maxAgeMs / 4)));
}

/** With `historyMaxAgeMs`, drops the messages older than that from the history, periodically. */
@Injectable()
export class HistoryRetention implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private job: IntervalJob | undefined;

  constructor(
    private readonly registry: SchedulerRegistry,
    private readonly transport: BusTransport,
    @Inject(SSE_BUS_OPTIONS) private readonly options: ResolvedSseBusOptions,
  ) {}

  /** Once the transport has started (`onModuleInit`). */
  onApplicationBootstrap(): void {
    const maxAgeMs = this.options.historyMaxAgeMs;
    if (maxAgeMs === undefined) return;
    this.job = new IntervalJob(this.registry, 'sse-bus:history-retention', () =>
      this.transport.trimBefore(Date.now() - maxAgeMs),
    );
    this.job.start(retentionIntervalMs(maxAgeMs));
  }

  /** Before the transport closes (`onApplicationShutdown`): no trim runs on a closed connection. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.job?.stop();
  }
}
