import type { StreamPosition } from './cursor.js';

/** A published message as every instance sees it. `data` is the JSON text, serialized once. */
export interface BusMessage {
  readonly kind: 'message';
  /** The event id: `<epoch>.<ms>-<seq>`, the same on every instance. */
  readonly id: string;
  readonly position: StreamPosition;
  /** Client ids it is addressed to; `null` for a broadcast. */
  readonly to: readonly string[] | null;
  readonly event: string | undefined;
  readonly data: string;
}

/**
 * The log lost its history (a Redis that restarted empty, an unknown or expired cursor): whoever
 * receives it must refetch its state. `id` is the position live messages continue from.
 */
export interface BusReset {
  readonly kind: 'reset';
  readonly id: string;
  readonly position: StreamPosition;
  readonly reason: ResetReason;
}

export type ResetReason = 'malformed' | 'epoch' | 'expired' | 'ahead' | 'lost';

export type BusEvent = BusMessage | BusReset;

/** Whether `clientId` may see `event`. */
export function isVisibleTo(event: BusEvent, clientId: string): boolean {
  return event.kind === 'reset' || event.to === null || event.to.includes(clientId);
}
