import { type LogPosition, START } from './log-position.js';

/** A stream's place in a sharded log: a position in each shard it reads. */
export type ShardPositions = ReadonlyMap<number, LogPosition>;

/** A place in one shard of the log. */
export interface ShardPlace {
  readonly shard: number;
  readonly position: LogPosition;
}

/**
 * How far the catch-up of a join (see `JoinedHistory`) got when an event was given during it:
 * its late messages on the shards before `shard` were given, and on `shard` up to `position`.
 */
export type CatchUpCursor = ShardPlace;

// `<digest>.<shard><ms>-<seq>_<shard><ms>-<seq>…`, in base 36: at most 8 shards fit in 128
// characters of [A-Za-z0-9._-], which an id must keep to (a cross-origin EventSource preflight).
// During a catch-up, `.<shard><ms>-<seq>` after them: its cursor, its ms counted back from the
// shard's position (short, as late messages are recent: with 8 shards, the id keeps to 128 while
// sequences stay under 36^2 a millisecond). Its join is the change at the id's position on the
// client's shard, unless `.<shard><ms>-<seq>_<ms>-<seq>…` follows: the changes of the catch-ups
// under way, the innermost (the cursor's) first, its ms counted back from the client's shard's
// position and each next one's from the one before (with 8 shards, two fit while sequences stay
// under 36 a millisecond). An id without a cursor, or with one alone, means what it did.
const TOKEN = '[a-z0-9]{1,11}-[a-z0-9]{1,8}';
const VECTOR = new RegExp(
  `^([a-z0-9]{1,7})\\.([0-7]${TOKEN}(?:_[0-7]${TOKEN}){0,7})` +
    `(?:\\.([0-7])(${TOKEN})(?:\\.([0-7])(${TOKEN}(?:_${TOKEN}){0,7}))?)?$`,
);

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

/**
 * `catchUp`: the cursor of the innermost catch-up under way; `changes`: the changes of those
 * under way, the outermost first, when they are not just one at the client's shard's position.
 */
export function formatVectorId(
  digest: string,
  positions: ShardPositions,
  catchUp?: CatchUpCursor,
  changes?: readonly ShardPlace[],
): string {
  let id = `${digest}.`;
  for (const [shard, { ms, seq }] of positions) {
    id += `${id.length > digest.length + 1 ? '_' : ''}${shard}${ms.toString(36)}-${seq.toString(36)}`;
  }
  const at = catchUp && positions.get(catchUp.shard);
  if (!at) return id;
  id += `.${catchUp.shard}${back(at.ms, catchUp.position)}`;
  const own = changes && positions.get(changes[0].shard);
  if (!own) return id;
  let from = own.ms;
  const tokens = [...changes].reverse().map(({ position }) => {
    const token = back(from, position);
    from = position.ms;
    return token;
  });
  return `${id}.${changes[0].shard}${tokens.join('_')}`;
}

export function parseVectorId(id: string | undefined):
  | {
      digest: string;
      positions: Map<number, LogPosition>;
      catchUp?: CatchUpCursor;
      changes?: ShardPlace[];
    }
  | undefined {
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
  const position = backFrom(at.ms, match[4]);
  if (!position) return undefined;
  const catchUp = { shard: Number(match[3]), position };
  if (match[5] === undefined) return { digest: match[1], positions, catchUp };
  const own = positions.get(Number(match[5]));
  // Its changes on a shard the id does not name: which joins it is of is unknown.
  if (!own) return { digest: match[1], positions };
  const changes: ShardPlace[] = [];
  let from = own.ms;
  for (const token of match[6].split('_')) {
    const change = backFrom(from, token);
    if (!change) return undefined;
    changes.unshift({ shard: Number(match[5]), position: change });
    from = change.ms;
  }
  return { digest: match[1], positions, catchUp, changes };
}

/** `position` as `<ms>-<seq>` in base 36, its ms counted back from `ms`. */
function back(ms: number, position: LogPosition): string {
  return `${(ms - position.ms).toString(36)}-${position.seq.toString(36)}`;
}

/** The position a `back` token names, counted back from `ms`; undefined when it is none. */
function backFrom(ms: number, token: string): LogPosition | undefined {
  const dash = token.indexOf('-');
  const position = {
    ms: ms - parseInt(token.slice(0, dash), 36),
    seq: parseInt(token.slice(dash + 1), 36),
  };
  return position.ms >= 0 && Number.isSafeInteger(position.seq) ? position : undefined;
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
