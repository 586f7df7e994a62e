import type { BusEvent, BusMessage } from './bus-event.js';
import { topicChannel } from './channels.js';
import { type LogPosition, comparePositions } from './log-position.js';
import type { StreamLease } from './stream-lease.js';
import { type CatchUpCursor, formatVectorId, parseVectorId } from './vector-id.js';

/** What a vector lease needs of the sharded log it is a place in. */
export interface ShardedLog {
  /** Stands for the epochs of all shards: an id with another is from another life of the log. */
  readonly digest: string;
  /** The shard `channel`'s messages are written to. */
  shardOf(channel: string): number;
  /** Listens on `channels` for a stream: undefined when it does already, else settles once it does. */
  want(channels: readonly string[]): Promise<void> | undefined;
  /** Forgets that a stream listened on `channels`. */
  release(channels: readonly string[]): void;
}

/**
 * A stream's place on a sharded log, and the channels it listens on. Each event it is sent moves
 * its shard's position, and the id that goes out with the event is the whole vector: so a client
 * that resumes anywhere misses nothing on any shard, whatever order their events reached it in.
 * A message moves it forward only: one a stream is given late (a joined topic's, caught up from
 * the log) does not take it back.
 */
export class VectorLease implements StreamLease {
  private text: string | undefined;
  private channels: readonly string[];
  private cursor: CatchUpCursor | undefined;

  constructor(
    private readonly log: ShardedLog,
    private readonly positions: Map<number, LogPosition>,
    channels: readonly string[],
    public ready: Promise<void> | undefined,
    /** The client's own id, which stands until the stream moves. */
    given?: string,
    /**
     * The catch-up the client's own id was given in, to go on with: its late messages after
     * this cursor are still owed (see `JoinedHistory.resume`).
     */
    readonly resumesCatchUp?: CatchUpCursor,
  ) {
    this.channels = channels;
    this.text = given;
    this.cursor = resumesCatchUp;
  }

  get id(): string {
    return (this.text ??= formatVectorId(this.log.digest, this.positions, this.cursor));
  }

  /**
   * Where a join's catch-up stands while it gives its late messages, which do not move the
   * stream's place: named in the ids of the events given meanwhile, so that a resume from one of
   * them goes on with it. Undefined once it has given them all.
   */
  set catchUp(cursor: CatchUpCursor | undefined) {
    this.cursor = cursor;
    this.text = undefined;
  }

  /** Where the stream stands on `shard`; undefined when it reads nothing there. */
  positionOn(shard: number): LogPosition | undefined {
    return this.positions.get(shard);
  }

  has(message: BusMessage): boolean {
    const at = this.positions.get(message.shard!);
    return at !== undefined && comparePositions(message.position, at) <= 0;
  }

  advance(event: BusEvent): string {
    if (event.kind === 'message') {
      const at = this.positions.get(event.shard!);
      if (at && comparePositions(event.position, at) > 0) {
        this.positions.set(event.shard!, event.position);
      }
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

  /**
   * Listens on `channels` too, and stands on the shard of each at `start(shard)` when it read
   * nothing there: undefined when they are heard already, else settles once they are.
   */
  listen(
    channels: readonly string[],
    start: (shard: number) => LogPosition,
  ): Promise<void> | undefined {
    const fresh = channels.filter((channel) => !this.channels.includes(channel));
    if (fresh.length === 0) return undefined;
    this.channels = [...this.channels, ...fresh];
    for (const channel of fresh) {
      const shard = this.log.shardOf(channel);
      if (!this.positions.has(shard)) this.positions.set(shard, start(shard));
    }
    this.text = undefined;
    return this.log.want(fresh);
  }

  leave(topics: readonly string[]): void {
    const gone = topics.map(topicChannel).filter((channel) => this.channels.includes(channel));
    if (gone.length === 0) return;
    this.channels = this.channels.filter((channel) => !gone.includes(channel));
    this.log.release(gone);
  }

  unsubscribe(): void {
    this.log.release(this.channels);
  }
}
