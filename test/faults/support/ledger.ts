import { type Cursor, comparePositions, parseCursor } from '../../../src/bus/cursor.js';

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

/** A frame as the SSE clients parse it. */
export interface Frame {
  id?: string;
  event?: string;
  data?: string;
}

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
   */
  audit(clientId: string, frames: readonly Frame[], since: string): Audit {
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
    let owedAfter = cursorOf(since);
    let last: Cursor | undefined;
    const seen = new Set<number>();
    for (const frame of frames) {
      if (frame.event === 'connected' || frame.data === undefined) continue;
      if (frame.event === 'reset') {
        result.resets++;
        owedAfter = cursorOf(frame.id);
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
      if (!isVisible(sent, clientId) || (sent.id !== undefined && sent.id !== frame.id)) {
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
      const position = cursorOf(frame.id);
      if (last && last.epoch === position.epoch && comparePositions(position, last) <= 0) {
        result.outOfOrder++;
        problem(`received ${frame.id} after ${last.epoch}.${last.ms}-${last.seq}`);
      }
      last = position;
    }
    for (const sent of this.acknowledged) {
      if (!isVisible(sent, clientId) || seen.has(sent.n)) continue;
      const position = cursorOf(sent.id);
      if (position.epoch === owedAfter.epoch && comparePositions(position, owedAfter) > 0) {
        result.lost++;
        problem(`never received #${sent.n} (${sent.id})`);
      }
    }
    return result;
  }
}

export function isVisible(sent: Pick<Sent, 'to'>, clientId: string): boolean {
  return sent.to === null || sent.to.includes(clientId);
}

export function cursorOf(id: string | undefined): Cursor {
  const cursor = parseCursor(id);
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
