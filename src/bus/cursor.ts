import { randomBytes } from 'node:crypto';

/**
 * A position in the bus's ordered log, in the shape of a Redis stream entry id: `<ms>-<seq>`.
 * The embedded bus mints the same shape, so both transports compare and resume alike.
 */
export interface StreamPosition {
  readonly ms: number;
  readonly seq: number;
}

/** A parsed event id: which life of the log (`epoch`) and where in it. */
export interface Cursor extends StreamPosition {
  readonly epoch: string;
}

export const START: StreamPosition = { ms: 0, seq: 0 };

// Ids stay in [A-Za-z0-9._-] and short: anything else makes a cross-origin EventSource preflight.
const CURSOR = /^([A-Za-z0-9_-]{1,16})\.(\d{1,15})-(\d{1,15})$/;
const STREAM_ID = /^(\d{1,15})-(\d{1,15})$/;

/** A fresh epoch: a log that lost its history gets a new one, so old ids are recognisably stale. */
export function newEpoch(): string {
  return randomBytes(6).toString('base64url');
}

export function parseCursor(text: string | undefined): Cursor | undefined {
  const match = text === undefined ? null : CURSOR.exec(text);
  return match ? { epoch: match[1], ms: Number(match[2]), seq: Number(match[3]) } : undefined;
}

export function parseStreamId(id: string): StreamPosition {
  const match = STREAM_ID.exec(id);
  if (!match) throw new Error(`Not a stream id: ${id}`);
  return { ms: Number(match[1]), seq: Number(match[2]) };
}

export function formatStreamId(position: StreamPosition): string {
  return `${position.ms}-${position.seq}`;
}

export function formatCursor(epoch: string, position: StreamPosition): string {
  return `${epoch}.${formatStreamId(position)}`;
}

export function comparePositions(a: StreamPosition, b: StreamPosition): number {
  return a.ms - b.ms || a.seq - b.seq;
}
