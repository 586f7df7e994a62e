import { randomUUID } from 'node:crypto';
import type { OutgoingMessage } from '../bus-transport.js';
import { newEpoch } from '../cursor.js';
import { appendUntil } from './append-until.js';
import { PublishBatch } from './publish-batch.js';
import type { RedisWatchdog } from './redis-watchdog.js';

/** One message on its way to one shard: on these of its channels, which are on the shard. */
export interface ShardWrite {
  readonly message: OutgoingMessage;
  readonly channels: readonly string[];
  /** How many shards the log has, when the message goes to more than one; else ''. */
  readonly spread: string;
}

export interface ShardPublisherOptions {
  /** The shard's hash tag, `{<prefix>:<shard>}`. */
  readonly tag: string;
  readonly maxLength: number;
  readonly commands: RedisWatchdog;
  /** Runs the publish script with these keys and arguments (then `WAIT`, if replicas must have it). */
  send(keys: string[], args: string[]): Promise<string>;
}

/** Messages, and bytes of data, per script call: one call must not hold Redis for long. */
const LIMITS = {
  maxItems: 512,
  maxBytes: 1024 * 1024,
  bytesOf: (write: ShardWrite) => write.message.data.length,
};

// Errors of a cluster in motion (a failover, a slot migration, a node loading): the write did
// not happen, and will once the cluster settles.
const PASSING = /^(CLUSTERDOWN|TRYAGAIN|MOVED|ASK|LOADING|READONLY|MASTERDOWN|NOREPLICAS)\b/;

/**
 * Writes to one shard: the messages published in one turn of the event loop go in one script
 * call (see `PublishBatch`), under one receipt, so a batch retried after a lost reply is applied
 * once.
 */
export class ShardPublisher {
  private readonly batch = new PublishBatch<ShardWrite, string>(
    (writes, until) => this.write(writes, until),
    LIMITS,
  );

  constructor(private readonly options: ShardPublisherOptions) {}

  /**
   * Resolves to the message's id on the shard; rejects with `DeadlineExceeded`
   * past `deadline`.
   */
  publish(write: ShardWrite, deadline: number): Promise<string> {
    return this.batch.add(write, deadline);
  }

  private async write(writes: readonly ShardWrite[], deadline: number): Promise<string[]> {
    const { tag, maxLength } = this.options;
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
    // Node gone, slot moving: once the cluster settles, the batch goes through.
    const receipt = await appendUntil(
      deadline,
      (left) => this.options.commands.ask(this.options.send(keys, args), left),
      PASSING,
    );
    // `<epoch> <id> <id>…`
    return receipt.split(' ').slice(1);
  }
}
