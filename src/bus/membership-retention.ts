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
import { ClientRouter } from './client-router.js';
import { retentionIntervalMs } from './history-retention.js';

/**
 * Keeps the memberships of the clients with streams here, and of those whose last stream here
 * ended, for their time to live, periodically (a quarter of it, at most a minute): a stream
 * costs its client's membership no command when it opens or ends.
 */
@Injectable()
export class MembershipRetention implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private job: IntervalJob | undefined;

  constructor(
    private readonly registry: SchedulerRegistry,
    private readonly transport: BusTransport,
    private readonly router: ClientRouter,
    @Inject(SSE_BUS_OPTIONS) private readonly options: ResolvedSseBusOptions,
  ) {}

  /** Once the transport has started (`onModuleInit`). */
  onApplicationBootstrap(): void {
    this.job = new IntervalJob(this.registry, 'sse-bus:membership-retention', () =>
      this.transport.keepMemberships(this.router.clientIds()),
    );
    this.job.start(retentionIntervalMs(this.options.membershipTtlMs));
  }

  /** Before the transport closes (`onApplicationShutdown`). */
  async beforeApplicationShutdown(): Promise<void> {
    await this.job?.stop();
  }
}
