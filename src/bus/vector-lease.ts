import type { BusEvent, BusMessage } from './bus-event.js';
import { topicChannel } from './channels.js';
import { type LogPosition, comparePositions } from './log-position.js';
import type { StreamLease } from './stream-lease.js';
import { type CatchUpCursor, type ShardPlace, formatVectorId, parseVectorId } from './vector-id.js';

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

/** Where a stream's catch-ups stood when its client's own id was given (see `JoinedHistory`). */
export interface CatchUpsUnderWay {
  /** The innermost's. */
  readonly cursor: CatchUpCursor;
  /** Their changes, the outermost first; absent: one, at the id's place on the client's shard. */
  readonly changes?: readonly ShardPlace[];
}

/**
 * A join's catch-up under way in a stream: its change, and its cursor (none once it is past its
 * late messages).
 */
export interface CatchUpPlace {
  readonly change: ShardPlace;
  cursor: CatchUpCursor | undefined;
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
  private catchUps: CatchUpPlace[] = [];

  constructor(
    private readonly log: ShardedLog,
    private readonly positions: Map<number, LogPosition>,
    channels: readonly string[],
    public ready: Promise<void> | undefined,
    /** The client's own id, which stands until the stream moves. */
    given?: string,
    /**
     * The catch-ups the client's own id was given in, to go on with: their late messages after
     * where they stood are still owed (see `JoinedHistory.resume`).
     */
    readonly resumesCatchUps?: CatchUpsUnderWay,
  ) {
    this.channels = channels;
    this.text = given;
  }

  get id(): string {
    return (this.text ??= this.format());
  }

  /**
   * A join's catch-up starts, within those under way (it met the change during theirs), at
   * `cursor`. While it gives its late messages, which do not move the stream's place, where each
   * stands is named in the ids of the events given meanwhile, so that a resume from one of them
   * goes on with them all.
   */
  openCatchUp(change: ShardPlace, cursor: CatchUpCursor | undefined): CatchUpPlace {
    const place = { change, cursor };
    this.catchUps.push(place);
    this.text = undefined;
    return place;
  }

  moveCatchUp(place: CatchUpPlace, cursor: CatchUpCursor | undefined): void {
    place.cursor = cursor;
    this.text = undefined;
  }

  closeCatchUp(place: CatchUpPlace): void {
    this.catchUps = this.catchUps.filter((each) => each !== place);
    this.text = undefined;
  }

  /**
   * Those past their late messages owe a resume nothing but what the replay gives. A catch-up
   * met within another's is met on the client's shard, where the outer one's cursor stays at its
   * change (see `JoinedHistory`): so only the changes of the outer ones go in the id.
   */
  private format(): string {
    const { digest } = this.log;
    let last = this.catchUps.length;
    while (last > 0 && !this.catchUps[last - 1].cursor) last--;
    if (last === 0) return formatVectorId(digest, this.positions);
    const changes = this.catchUps.slice(0, last).map((each) => each.change);
    const at = this.positions.get(changes[0].shard);
    // One at the client's shard's place, as an id with a cursor alone always meant.
    const implied = last === 1 && at && comparePositions(at, changes[0].position) === 0;
    const { cursor } = this.catchUps[last - 1];
    return formatVectorId(digest, this.positions, cursor, implied ? undefined : changes);
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
