import type { BusEvent, BusMessage } from './bus-event.js';
import { type LogPosition, comparePositions } from './log-position.js';
import type { StreamLease } from './stream-lease.js';
import { formatVectorId, parseVectorId } from './vector-id.js';

/** What a vector lease needs of the sharded log it is a place in. */
export interface ShardedLog {
  /** Stands for the epochs of all shards: an id with another is from another life of the log. */
  readonly digest: string;
  /** Forgets that a stream listened on `channels`. */
  release(channels: readonly string[]): void;
}

/**
 * A stream's place on a sharded log, and the channels it listens on. Each event it is sent moves
 * its shard's position, and the id that goes out with the event is the whole vector: so a client
 * that resumes anywhere misses nothing on any shard, whatever order their events reached it in.
 */
export class VectorLease implements StreamLease {
  private text: string | undefined;

  constructor(
    private readonly log: ShardedLog,
    private readonly positions: Map<number, LogPosition>,
    private readonly channels: readonly string[],
    readonly ready: Promise<void> | undefined,
    /** The client's own id, which stands until the stream moves. */
    given?: string,
  ) {
    this.text = given;
  }

  get id(): string {
    return (this.text ??= formatVectorId(this.log.digest, this.positions));
  }

  has(message: BusMessage): boolean {
    const at = this.positions.get(message.shard!);
    return at !== undefined && comparePositions(message.position, at) <= 0;
  }

  advance(event: BusEvent): string {
    if (event.kind === 'message') {
      if (this.positions.has(event.shard!)) this.positions.set(event.shard!, event.position);
    } else if (event.shard !== undefined) {
      if (this.positions.has(event.shard)) this.positions.set(event.shard, event.position);
    } else {
      // A reset of every shard carries where each stands, as a vector.
      for (const [shard, position] of parseVectorId(event.id)?.positions ?? []) {
        if (this.positions.has(shard)) this.positions.set(shard, position);
      }
    }
    this.text = undefined;
    return this.id;
  }

  unsubscribe(): void {
    this.log.release(this.channels);
  }
}
