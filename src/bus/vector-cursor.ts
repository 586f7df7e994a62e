import type { BusEvent, BusMessage } from './bus-event.js';
import { type StreamPosition, comparePositions } from './cursor.js';
import type { StreamCursor } from './stream-cursor.js';

/** A stream's place in a sharded log: a position in each shard it reads. */
export type ShardPositions = ReadonlyMap<number, StreamPosition>;

/** What a vector cursor needs of the log it is a place in. */
export interface ShardedLog {
  /** Stands for the epochs of all shards: an id with another tag is from another life of the log. */
  readonly tag: string;
  /** Forgets what a stream's channels were subscribed for. */
  release(channels: readonly string[]): void;
}

// `<tag>.<shard><ms>-<seq>_<shard><ms>-<seq>…`, in base 36: at most 8 shards fit in 128
// characters of [A-Za-z0-9._-], which an id must keep to (a cross-origin EventSource preflight).
const VECTOR =
  /^([a-z0-9]{1,7})\.([0-7][a-z0-9]{1,11}-[a-z0-9]{1,8}(?:_[0-7][a-z0-9]{1,11}-[a-z0-9]{1,8}){0,7})$/;

/** A tag of 6 characters or fewer for `epochs`, one per shard. */
export function epochTag(epochs: readonly string[]): string {
  let hash = 0x811c9dc5;
  const text = epochs.join(' ');
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return ((hash >>> 0) % 36 ** 6).toString(36);
}

export function formatVector(tag: string, positions: ShardPositions): string {
  let id = `${tag}.`;
  for (const [shard, { ms, seq }] of positions) {
    id += `${id.length > tag.length + 1 ? '_' : ''}${shard}${ms.toString(36)}-${seq.toString(36)}`;
  }
  return id;
}

export function parseVector(
  id: string | undefined,
): { tag: string; positions: Map<number, StreamPosition> } | undefined {
  const match = id === undefined ? null : VECTOR.exec(id);
  if (!match) return undefined;
  const positions = new Map<number, StreamPosition>();
  for (const entry of match[2].split('_')) {
    const dash = entry.indexOf('-');
    const position = {
      ms: parseInt(entry.slice(1, dash), 36),
      seq: parseInt(entry.slice(dash + 1), 36),
    };
    if (!Number.isSafeInteger(position.ms) || !Number.isSafeInteger(position.seq)) return undefined;
    positions.set(Number(entry[0]), position);
  }
  return { tag: match[1], positions };
}

/**
 * A stream's place on a sharded log. Each event it is sent moves its shard's position, and the
 * id that goes out with the event is the whole vector: so a client that resumes anywhere misses
 * nothing on any shard, whatever order their events reached it in.
 */
export class VectorCursor implements StreamCursor {
  private text: string | undefined;

  constructor(
    private readonly log: ShardedLog,
    private readonly positions: Map<number, StreamPosition>,
    private readonly channels: readonly string[],
    readonly ready: Promise<void> | undefined,
    /** The client's own id, which stands until the stream moves. */
    given?: string,
  ) {
    this.text = given;
  }

  get id(): string {
    return (this.text ??= formatVector(this.log.tag, this.positions));
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
      for (const [shard, position] of parseVector(event.id)?.positions ?? []) {
        if (this.positions.has(shard)) this.positions.set(shard, position);
      }
    }
    this.text = undefined;
    return this.id;
  }

  close(): void {
    this.log.release(this.channels);
  }
}
