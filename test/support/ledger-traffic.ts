import { setTimeout as sleep } from 'node:timers/promises';
import type { LoggedEntry, LoggedMessage } from './membership-ledger.js';

/** Who a channel's messages are for. */
export type Channel = { readonly name: string } & Omit<LoggedEntry, 'id'>;

/** A publisher: `publish` resolves to the message's id. */
export interface Publisher {
  readonly name: string;
  publish(data: object, to: Omit<LoggedEntry, 'id'>): Promise<string>;
}

/**
 * One loop per publisher, publishing on `channels` in turn, each message awaited and carrying
 * (publisher, channel, seq), `paceMs` apart, until stopped: the seq of a (publisher, channel)
 * increases in log order.
 */
export class LedgerTraffic {
  readonly sent: LoggedMessage[] = [];
  private running = true;
  private readonly loops: Promise<void>[];
  private readonly waiting: { topics: readonly string[]; issued: () => void }[] = [];

  constructor(publishers: readonly Publisher[], channels: readonly Channel[], paceMs: number) {
    this.loops = publishers.map(async (publisher) => {
      const seqs = new Map<string, number>();
      for (let n = 0; this.running; n++) {
        const { name: channel, to, topics } = channels[n % channels.length];
        const seq = seqs.get(channel) ?? 0;
        seqs.set(channel, seq + 1);
        const issuedAt = performance.now();
        const publishing = publisher.publish(
          { publisher: publisher.name, channel, seq },
          {
            to,
            topics,
          },
        );
        this.issued(topics ?? []);
        const id = await publishing;
        const message = { publisher: publisher.name, channel, seq, to, topics, id };
        this.sent.push({ ...message, issuedAt, resolvedAt: performance.now() });
        await sleep(paceMs);
      }
    });
  }

  /**
   * Settles as soon as a message on one of `topics` is issued: before it can have resolved, so
   * that what the caller issues then is in flight with it, and the log orders the two.
   */
  issuedOn(topics: readonly string[]): Promise<void> {
    return new Promise((issued) => this.waiting.push({ topics, issued }));
  }

  /** Stops every loop after its publish in flight; rejects if a publish failed. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private issued(topics: readonly string[]): void {
    for (const [i, waiter] of [...this.waiting.entries()].reverse()) {
      if (waiter.topics.some((topic) => topics.includes(topic))) {
        this.waiting.splice(i, 1);
        waiter.issued();
      }
    }
  }
}
