import { randomBytes } from 'node:crypto';
import { type LogPosition, formatEntryId } from './log-position.js';

/** An event id of a log with one order, read: which life of the log (`epoch`) and where in it. */
export interface LogEventId extends LogPosition {
  readonly epoch: string;
}

// Ids stay in [A-Za-z0-9._-] and short: anything else makes a cross-origin EventSource preflight.
const EVENT_ID = /^([A-Za-z0-9_-]{1,16})\.(\d{1,15})-(\d{1,15})$/;

const EPOCH_BYTES = 6;
/** Random bytes for epochs, drawn a few hundred at a time: every publish batch offers one. */
let pool = Buffer.alloc(0);
let taken = 0;

/** A fresh epoch: a log that lost its history gets a new one, so old ids are recognisably stale. */
export function newEpoch(): string {
  if (taken + EPOCH_BYTES > pool.length) {
    pool = randomBytes(EPOCH_BYTES * 256);
    taken = 0;
  }
  taken += EPOCH_BYTES;
  return pool.toString('base64url', taken - EPOCH_BYTES, taken);
}

/** `<epoch>.<ms>-<seq>`, read; undefined when it is not one. */
export function parseEventId(text: string | undefined): LogEventId | undefined {
  const match = text === undefined ? null : EVENT_ID.exec(text);
  return match ? { epoch: match[1], ms: Number(match[2]), seq: Number(match[3]) } : undefined;
}

export function formatEventId(epoch: string, position: LogPosition): string {
  return `${epoch}.${formatEntryId(position)}`;
}
