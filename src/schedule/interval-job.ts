import { Logger } from '@nestjs/common';
import type { SchedulerRegistry } from '@nestjs/schedule';

/**
 * A task run every so often, registered in a `SchedulerRegistry` under `name`. Whoever creates
 * it owns it and stops it. A run still going when the next is due is not doubled: that tick is
 * skipped, so a slow Redis never piles up runs.
 */
export class IntervalJob {
  private readonly logger = new Logger(IntervalJob.name);
  private running: Promise<void> | undefined;
  private registered = false;

  constructor(
    private readonly registry: SchedulerRegistry,
    readonly name: string,
    private readonly task: () => Promise<void>,
  ) {}

  start(everyMs: number): void {
    this.registry.addInterval(
      this.name,
      setInterval(() => this.run(), everyMs),
    );
    this.registered = true;
  }

  /** Deletes the interval, and waits for a run still going. */
  async stop(): Promise<void> {
    if (this.registered) this.registry.deleteInterval(this.name);
    this.registered = false;
    await this.running;
  }

  private run(): void {
    this.running ??= this.task()
      .catch((err: Error) => this.logger.warn(`${this.name}: ${err.message}`))
      .finally(() => (this.running = undefined));
  }
}
