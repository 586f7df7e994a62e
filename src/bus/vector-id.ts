import { type LogPosition, START } from './log-position.js';

/** A stream's place in a sharded log: a position in each shard it reads. */
export type ShardPositions = ReadonlyMap<number, LogPosition>;

/**
 * How far the catch-up of a join (see `JoinedHistory`) got when an event was given during it:
 * its late messages on the shards before `shard` were given, and on `shard` up to `position`.
 * The join is the change at the id's position on the client's shard.
 */
export interface CatchUpCursor {
  readonly shard: number;
  readonly position: LogPosition;
}

// `<digest>.<shard><ms>-<seq>_<shard><ms>-<seq>…`, in base 36: at most 8 shards fit in 128
// characters of [A-Za-z0-9._-], which an id must keep to (a cross-origin EventSource preflight).
// During a catch-up, `.<shard><ms>-<seq>` after them: its cursor, its ms counted back from the
// shard's position (short, as late messages are recent: with 8 shards, the id keeps to 128 while
// sequences stay under 36^2 a millisecond). An id without one means what it did.
const VECTOR =
  /^([a-z0-9]{1,7})\.([0-7][a-z0-9]{1,11}-[a-z0-9]{1,8}(?:_[0-7][a-z0-9]{1,11}-[a-z0-9]{1,8}){0,7})(?:\.([0-7])([a-z0-9]{1,11})-([a-z0-9]{1,8}))?$/;

/**
 * Six characters or fewer that stand for the epochs of every shard, one each: an id with another
 * digest is from another life of the log.
 */
export function epochsDigest(epochs: readonly string[]): string {
  let hash = 0x811c9dc5;
  const text = epochs.join(' ');
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return ((hash >>> 0) % 36 ** 6).toString(36);
}

export function formatVectorId(
  digest: string,
  positions: ShardPositions,
  catchUp?: CatchUpCursor,
): string {
  let id = `${digest}.`;
  for (const [shard, { ms, seq }] of positions) {
    id += `${id.length > digest.length + 1 ? '_' : ''}${shard}${ms.toString(36)}-${seq.toString(36)}`;
  }
  const at = catchUp && positions.get(catchUp.shard);
  if (at) {
    const { shard, position } = catchUp;
    id += `.${shard}${(at.ms - position.ms).toString(36)}-${position.seq.toString(36)}`;
  }
  return id;
}

export function parseVectorId(
  id: string | undefined,
): { digest: string; positions: Map<number, LogPosition>; catchUp?: CatchUpCursor } | undefined {
  const match = id === undefined ? null : VECTOR.exec(id);
  if (!match) return undefined;
  const positions = new Map<number, LogPosition>();
  for (const entry of match[2].split('_')) {
    const dash = entry.indexOf('-');
    const position = {
      ms: parseInt(entry.slice(1, dash), 36),
      seq: parseInt(entry.slice(dash + 1), 36),
    };
    if (!Number.isSafeInteger(position.ms) || !Number.isSafeInteger(position.seq)) return undefined;
    positions.set(Number(entry[0]), position);
  }
  const at = match[3] === undefined ? undefined : positions.get(Number(match[3]));
  if (!at) return { digest: match[1], positions };
  const position = { ms: at.ms - parseInt(match[4], 36), seq: parseInt(match[5], 36) };
  if (position.ms < 0 || !Number.isSafeInteger(position.seq)) return undefined;
  return { digest: match[1], positions, catchUp: { shard: Number(match[3]), position } };
}

/**
 * Where a stream starts on `shard` from an id: its position there, else (a publish id names only
 * the shards its message was written to) just before the earliest time the id names, so that
 * what any shard took since is replayed. Entries of that same millisecond on other shards are
 * replayed too: their order against the id's is unknown, and a repeat beats a skip. Assumes the
 * masters' clocks agree.
 */
export function startOn(positions: ShardPositions, shard: number): LogPosition {
  return positions.get(shard) ?? beforeAll(positions);
}

/** Just before the earliest time `positions` name: before all of them, on any shard. */
export function beforeAll(positions: ShardPositions): LogPosition {
  const ms = Math.min(...[...positions.values()].map((position) => position.ms));
  // An id from before anything was written: from the start.
  if (ms === 0) return START;
  // The last sequence an id can carry: after every entry of the millisecond before.
  return { ms: ms - 1, seq: 36 ** 8 - 1 };
}
