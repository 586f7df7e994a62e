import { randomUUID } from 'node:crypto';
import { ReplyError } from 'ioredis';
import type { OutgoingMessage } from '../bus-transport.js';
import { newEpoch } from '../cursor.js';
import { BusUnavailableError } from '../errors/bus-unavailable.error.js';
import { DeadlineExceeded, delay } from './deadline.js';
import type { RedisWatchdog } from './redis-watchdog.js';

/** One message on its way to one shard: on these of its channels, which are on the shard. */
export interface ShardWrite {
  readonly message: OutgoingMessage;
  readonly channels: readonly string[];
  /** How many shards the log has, when the message goes to more than one; else ''. */
  readonly spread: string;
  readonly deadline: number;
}

export interface ShardPublisherOptions {
  /** The shard's hash tag, `{<prefix>:<shard>}`. */
  readonly tag: string;
  readonly maxLength: number;
  readonly commands: RedisWatchdog;
  /** Runs the publish script with these keys and arguments (then `WAIT`, if replicas must have it). */
  send(keys: string[], args: string[]): Promise<string>;
}

/** Messages per script call, at most: one call must not hold Redis for long. */
const MAX_BATCH = 256;

// Errors of a cluster in motion (a failover, a slot migration, a node loading): the write did
// not happen, and will once the cluster settles.
const PASSING = /^(CLUSTERDOWN|TRYAGAIN|MOVED|ASK|LOADING|READONLY|MASTERDOWN|NOREPLICAS)\b/;

/**
 * Writes to one shard: the messages published in one turn of the event loop go in one script
 * call, under one receipt, so a batch retried after a lost reply is applied once.
 */
export class ShardPublisher {
  private queue: { write: ShardWrite; settle: (id: string | Error) => void }[] = [];
  private scheduled = false;

  constructor(private readonly options: ShardPublisherOptions) {}

  /** Resolves to the message's id on the shard (`<epoch> <id>`). */
  publish(write: ShardWrite): Promise<string> {
    return new Promise((resolve, reject) => {
      this.queue.push({
        write,
        settle: (result) => (typeof result === 'string' ? resolve(result) : reject(result)),
      });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      this.write(batch.map((each) => each.write)).then(
        (ids) => batch.forEach((each, i) => each.settle(ids[i])),
        (err: Error) => batch.forEach((each) => each.settle(err)),
      );
    }
  }

  private async write(writes: ShardWrite[]): Promise<string[]> {
    const { tag, maxLength } = this.options;
    const deadline = Math.max(...writes.map((write) => write.deadline));
    const keys = [`${tag}:meta`, `${tag}:log`, `${tag}:receipt:${randomUUID()}`];
    const args = [
      newEpoch(),
      String(maxLength),
      // Long enough to outlive every retry of this batch.
      String(deadline - Date.now() + 10_000),
      tag,
    ];
    for (const { message, channels, spread } of writes) {
      args.push(
        message.to === null ? '' : message.to.join('\n'),
        message.event ?? '',
        message.data,
        message.topics === null ? '' : message.topics.join('\n'),
        spread,
        channels.join('\n'),
      );
    }
    for (;;) {
      try {
        const left = deadline - Date.now();
        if (left <= 0) throw new DeadlineExceeded('Redis is unreachable');
        const [epoch, ...ids] = (
          await this.options.commands.ask(this.options.send(keys, args), left)
        ).split(' ');
        return ids.map((id) => `${epoch} ${id}`);
      } catch (err) {
        if (err instanceof ReplyError && !PASSING.test((err as Error).message)) {
          throw new BusUnavailableError(`Redis refused the message: ${(err as Error).message}`);
        }
        if (err instanceof DeadlineExceeded) {
          throw new BusUnavailableError(`Message not published in time: ${err.message}`);
        }
        // The node is gone or the slot is moving: once the cluster settles, the same receipt
        // makes a batch that did land return its first ids.
        await delay(Math.min(50, Math.max(0, deadline - Date.now())));
      }
    }
  }
}
