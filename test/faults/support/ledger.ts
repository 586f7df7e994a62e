import { type LogEventId, parseEventId } from '../../../src/bus/event-id.js';
import { comparePositions } from '../../../src/bus/log-position.js';
import { parseVectorId } from '../../../src/bus/vector-id.js';
import type { SseEvent } from '../../support/sse-parser.js';

/** One publish attempt, and what became of it. */
export interface Sent {
  readonly n: number;
  readonly to: string[] | null;
  readonly event: string | undefined;
  /** The JSON text clients receive: unique, so a message is known by its data alone. */
  readonly data: string;
  status: 'pending' | 'acknowledged' | 'rejected';
  id?: string;
  error?: Error;
}

export type Publish = (
  data: unknown,
  options: { clientId?: string[]; event?: string },
) => Promise<string>;

/** What one client was sent and received, counted against the ledger. */
export interface Audit {
  /** Messages received. */
  received: number;
  /** Acknowledged messages it should have seen (after its first connect or a reset), never received. */
  lost: number;
  /** Messages received more than once. */
  duplicated: number;
  /** Messages received at or before a position already received. */
  outOfOrder: number;
  /** Messages it may not see, never published, or with another id than publish() gave. */
  unexpected: number;
  resets: number;
  /** Rejected publishes that were delivered anyway (at most once each). */
  rejectedButDelivered: number;
  /** The first few problems, to make a failure readable. */
  problems: string[];
}

/** What an audit of a client that lost nothing shows. */
export const CLEAN: Partial<Audit> = {
  lost: 0,
  duplicated: 0,
  outOfOrder: 0,
  unexpected: 0,
  resets: 0,
};

/**
 * Every message a test publishes, by a unique number in its data, with the id publish() gave or
 * the error it threw. Clients' frames are audited against it.
 */
export class Ledger {
  readonly sent: Sent[] = [];
  private readonly byData = new Map<string, Sent>();

  constructor(private readonly tag: string) {}

  get acknowledged(): Sent[] {
    return this.sent.filter((each) => each.status === 'acknowledged');
  }

  get rejected(): Sent[] {
    return this.sent.filter((each) => each.status === 'rejected');
  }

  get pending(): Sent[] {
    return this.sent.filter((each) => each.status === 'pending');
  }

  /**
   * Publishes through `publish` and records the outcome; never throws (see `sent.status`).
   * Resolves once publish() has settled.
   */
  async publish(publish: Publish, to?: string[], event?: string): Promise<Sent> {
    const n = this.sent.length;
    const payload = { tag: this.tag, n };
    const sent: Sent = {
      n,
      to: to ?? null,
      event,
      data: JSON.stringify(payload),
      status: 'pending',
    };
    this.sent.push(sent);
    this.byData.set(sent.data, sent);
    try {
      sent.id = await publish(payload, {
        ...(to ? { clientId: to } : {}),
        ...(event ? { event } : {}),
      });
      sent.status = 'acknowledged';
    } catch (err) {
      sent.error = err as Error;
      sent.status = 'rejected';
    }
    return sent;
  }

  find(data: string | undefined): Sent | undefined {
    return data === undefined ? undefined : this.byData.get(data);
  }

  /**
   * Audits what `clientId` received (its frames over all its connections, in order) against the
   * ledger. `since` is the id of its first `connected` frame: every acknowledged message it may
   * see after that is owed to it, except what a `reset` excuses (what came before the reset's id).
   * `sharded`: ids are the stream's own positions on a sharded log, which must only move on;
   * every acknowledged message is owed (the caller publishes after the first `connected`).
   */
  audit(clientId: string, frames: readonly SseEvent[], since: string, sharded = false): Audit {
    const result: Audit = {
      received: 0,
      lost: 0,
      duplicated: 0,
      outOfOrder: 0,
      unexpected: 0,
      resets: 0,
      rejectedButDelivered: 0,
      problems: [],
    };
    const problem = (text: string) => result.problems.length < 10 && result.problems.push(text);
    let owedAfter = sharded ? undefined : cursorOf(since);
    let last: string | undefined;
    const seen = new Set<number>();
    for (const frame of frames) {
      if (frame.event === 'connected' || frame.data === undefined) continue;
      if (frame.event === 'reset') {
        result.resets++;
        owedAfter = sharded ? undefined : cursorOf(frame.id);
        last = undefined;
        continue;
      }
      result.received++;
      const sent = this.find(frame.data);
      if (!sent) {
        result.unexpected++;
        problem(`received something never published: ${frame.id} ${frame.data}`);
        continue;
      }
      const idDiffers = !sharded && sent.id !== undefined && sent.id !== frame.id;
      if (!isVisible(sent, clientId) || idDiffers) {
        result.unexpected++;
        problem(`received #${sent.n} (to ${String(sent.to)}, id ${sent.id}) as ${frame.id}`);
      }
      if (sent.event !== frame.event) {
        result.unexpected++;
        problem(`received #${sent.n} as event ${frame.event}, published as ${sent.event}`);
      }
      if (seen.has(sent.n)) {
        result.duplicated++;
        problem(`received #${sent.n} (${frame.id}) again`);
      }
      seen.add(sent.n);
      if (sent.status === 'rejected') result.rejectedButDelivered++;
      if (last !== undefined && !movesOn(last, frame.id!, sharded)) {
        result.outOfOrder++;
        problem(`received ${frame.id} after ${last}`);
      }
      last = frame.id;
    }
    for (const sent of this.acknowledged) {
      if (!isVisible(sent, clientId) || seen.has(sent.n)) continue;
      const position = owedAfter && cursorOf(sent.id);
      const owed = position
        ? position.epoch === owedAfter!.epoch && comparePositions(position, owedAfter!) > 0
        : result.resets === 0;
      if (owed) {
        result.lost++;
        problem(`${clientId} never received #${sent.n} (${sent.id}) to ${String(sent.to)}`);
      }
    }
    return result;
  }
}

/**
 * Whether `next` is an id after `previous`. On a sharded log: no shard's position goes back,
 * and one goes forward; ids of another life of the log (another digest) start over.
 */
function movesOn(previous: string, next: string, sharded: boolean): boolean {
  if (!sharded) {
    const [from, to] = [cursorOf(previous), cursorOf(next)];
    return from.epoch !== to.epoch || comparePositions(to, from) > 0;
  }
  const [from, to] = [parseVectorId(previous), parseVectorId(next)];
  if (!from || !to) return false;
  if (from.digest !== to.digest) return true;
  let forward = false;
  for (const [shard, position] of to.positions) {
    const before = from.positions.get(shard);
    const step = before ? comparePositions(position, before) : 1;
    if (step < 0) return false;
    if (step > 0) forward = true;
  }
  return forward;
}

export function isVisible(sent: Pick<Sent, 'to'>, clientId: string): boolean {
  return sent.to === null || sent.to.includes(clientId);
}

export function cursorOf(id: string | undefined): LogEventId {
  const cursor = parseEventId(id);
  if (!cursor) throw new Error(`Not an event id: ${id}`);
  return cursor;
}

/** Sums audits. */
export function total(audits: readonly Audit[]): Audit {
  const sum: Audit = {
    received: 0,
    lost: 0,
    duplicated: 0,
    outOfOrder: 0,
    unexpected: 0,
    resets: 0,
    rejectedButDelivered: 0,
    problems: [],
  };
  for (const audit of audits) {
    for (const key of Object.keys(sum) as (keyof Audit)[]) {
      if (key === 'problems') {
        sum.problems.push(...audit.problems.slice(0, 10 - sum.problems.length));
      } else sum[key] += audit[key];
    }
  }
  return sum;
}
