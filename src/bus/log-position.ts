/**
 * A position in the bus's ordered log, in the shape of a Redis stream entry id: `<ms>-<seq>`.
 * The embedded bus mints the same shape, so every transport compares and resumes alike.
 */
export interface LogPosition {
  readonly ms: number;
  readonly seq: number;
}

export const START: LogPosition = { ms: 0, seq: 0 };

const ENTRY_ID = /^(\d{1,15})-(\d{1,15})$/;

export function comparePositions(a: LogPosition, b: LogPosition): number {
  return a.ms - b.ms || a.seq - b.seq;
}

/** A Redis stream entry id, `<ms>-<seq>`, as a position. */
export function parseEntryId(id: string): LogPosition {
  const match = ENTRY_ID.exec(id);
  if (!match) throw new Error(`Not a stream entry id: ${id}`);
  return { ms: Number(match[1]), seq: Number(match[2]) };
}

export function formatEntryId(position: LogPosition): string {
  return `${position.ms}-${position.seq}`;
}

/**
 * The index of the first of `entries` after `position`, looking from `from` on (binary search:
 * they are in log order).
 */
export function indexAfter(
  entries: readonly { readonly position: LogPosition }[],
  position: LogPosition,
  from = 0,
): number {
  let low = from;
  let high = entries.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (comparePositions(entries[middle].position, position) <= 0) low = middle + 1;
    else high = middle;
  }
  return low;
}
