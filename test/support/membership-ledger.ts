import { parseEventId } from '../../src/bus/event-id.js';
import { type LogPosition, comparePositions } from '../../src/bus/log-position.js';

/** An entry of the log as a test wrote it: its id, and who it is for. */
export interface LoggedEntry {
  /** The id its publish (or change) resolved to. */
  readonly id: string;
  /** Client ids it is addressed to; null: everyone. */
  readonly to: readonly string[] | null;
  /** Topics it is on; null: none. */
  readonly topics: readonly string[] | null;
}

/** A message the traffic published: (publisher, channel, seq) is in its data. */
export interface LoggedMessage extends LoggedEntry {
  readonly publisher: string;
  readonly channel: string;
  readonly seq: number;
  /** When its publish was issued and when it resolved (`performance.now()`). */
  readonly issuedAt: number;
  readonly resolvedAt: number;
}

/** A change of a client's topics the server made: its log entry is addressed to that client. */
export interface LoggedChange extends LoggedEntry {
  readonly clientId: string;
  readonly join: readonly string[];
  readonly leave: readonly string[];
  readonly issuedAt: number;
  readonly resolvedAt: number;
}

/** One connection of a tab: whose, what its URL asked for, and its ids from start to end. */
export interface StreamSpan {
  readonly clientId: string;
  readonly asked: readonly string[];
  /** The `Last-Event-ID` it resumed from, or the `connected` event's id when it opened fresh. */
  readonly start: string;
  /** The id of the last event it got (the final marker's, for a stream open at the end). */
  readonly end: string;
}

/**
 * How a log decides what a stream should have got. `shouldGet` is the whole rule: whether
 * `entry` (a message, or a change entry, which is addressed to its client) belongs to `stream`,
 * given every change made. `compareIds`, for a log with one order only, orders two ids: each
 * event then arrives with the id its publish resolved to, in increasing order.
 */
export interface LedgerRule {
  shouldGet(entry: LoggedEntry, stream: StreamSpan, changes: readonly LoggedChange[]): boolean;
  compareIds?(a: string, b: string): number;
}

/** A stream's topics after `changes`, in the order they were made, on top of what it asked for. */
export function topicsAfter(
  asked: readonly string[],
  changes: readonly Pick<LoggedChange, 'join' | 'leave'>[],
): Set<string> {
  const topics = new Set(asked);
  for (const { join, leave } of changes) {
    join.forEach((topic) => topics.add(topic));
    leave.forEach((topic) => topics.delete(topic));
  }
  return topics;
}

const positionOf = (id: string): LogPosition => {
  const parsed = parseEventId(id);
  if (!parsed) throw new Error(`Not an id of a log with one order: ${id}`);
  return parsed;
};
const compareIds = (a: string, b: string) => comparePositions(positionOf(a), positionOf(b));

/**
 * A single Redis (one ordered log, ids `<epoch>.<ms>-<seq>`): a stream gets the entry at
 * position p iff start < p <= end, it is for everyone or for the stream's client, and it is on
 * no topic or on one of the topics the changes of the client before p leave the stream with.
 */
export const ONE_LOG: LedgerRule = {
  compareIds,
  shouldGet(entry, stream, changes) {
    if (compareIds(entry.id, stream.start) <= 0 || compareIds(entry.id, stream.end) > 0) {
      return false;
    }
    if (entry.to !== null && !entry.to.includes(stream.clientId)) return false;
    if (entry.topics === null) return true;
    const before = changes
      .filter(
        (change) => change.clientId === stream.clientId && compareIds(change.id, entry.id) < 0,
      )
      .sort((x, y) => compareIds(x.id, y.id));
    const topics = topicsAfter(stream.asked, before);
    return entry.topics.some((topic) => topics.has(topic));
  },
};

/** An event as a stream's EventSource dispatched it. */
export interface ReceivedEvent {
  readonly type: string;
  readonly id: string;
  readonly data: string;
}

/** What one connection got, from where it started. */
export interface StreamRecord {
  readonly name: string;
  readonly clientId: string;
  readonly asked: readonly string[];
  readonly start: string;
  readonly events: readonly ReceivedEvent[];
}

/** A stream's account: how many messages it should have got and got, and each problem found. */
export interface StreamAudit {
  readonly stream: string;
  readonly expected: number;
  readonly received: number;
  readonly lost: string[];
  readonly extra: string[];
  readonly duplicated: string[];
  readonly outOfOrder: string[];
  /** Wrong ids, `topics` events that are not what the changes made, unexpected events. */
  readonly other: string[];
}

/** A connection's span: from its start to the id of the last event it got. */
export function spanOf(stream: StreamRecord): StreamSpan {
  return { ...stream, end: stream.events.at(-1)?.id ?? stream.start };
}

const keyOf = ({ publisher, channel, seq }: Pick<LoggedMessage, 'publisher' | 'channel' | 'seq'>) =>
  `${publisher}/${channel}/${seq}`;

/**
 * Checks what `stream` got against what `rule` says it should have got of `messages` (the
 * marker, `{ "marker": … }`, aside) and of the `topics` events of `changes` (made one after the
 * other, in this order).
 */
export function auditStream(
  rule: LedgerRule,
  stream: StreamRecord,
  messages: readonly LoggedMessage[],
  changes: readonly LoggedChange[],
): StreamAudit {
  const [connected, ...events] = stream.events;
  const span = spanOf(stream);
  const other = connected?.type === 'connected' ? [] : ['no connected event first'];
  const expected = new Map(
    messages.filter((m) => rule.shouldGet(m, span, changes)).map((m) => [keyOf(m), m]),
  );
  const sent = new Map(messages.map((m) => [keyOf(m), m]));
  const counts = new Map<string, number>();
  const outOfOrder: string[] = [];
  const lastSeq = new Map<string, number>();
  let lastId = stream.start;
  for (const event of events) {
    if (rule.compareIds && rule.compareIds(event.id, lastId) <= 0) {
      other.push(`id ${event.id} after ${lastId}`);
    }
    lastId = event.id;
    if (event.type !== 'message') {
      if (event.type !== 'topics') other.push(`a ${event.type} event`);
      continue;
    }
    const data = JSON.parse(event.data) as LoggedMessage & { marker?: unknown };
    if (data.marker !== undefined) continue;
    const key = keyOf(data);
    counts.set(key, (counts.get(key) ?? 0) + 1);
    if (rule.compareIds && sent.get(key)?.id !== event.id) other.push(`${key} with id ${event.id}`);
    const order = `${data.publisher}/${data.channel}`;
    if ((lastSeq.get(order) ?? -1) >= data.seq) outOfOrder.push(key);
    lastSeq.set(order, data.seq);
  }
  other.push(...topicsProblems(rule, stream, span, changes));
  return {
    stream: stream.name,
    expected: expected.size,
    received: [...counts.values()].reduce((sum, n) => sum + n, 0),
    lost: [...expected.keys()].filter((key) => !counts.has(key)),
    extra: [...counts.keys()].filter((key) => !expected.has(key)),
    duplicated: [...counts].filter(([, n]) => n > 1).map(([key]) => key),
    outOfOrder,
    other,
  };
}

/** The `topics` events `stream` got against one per change it should have got, with its topics. */
function topicsProblems(
  rule: LedgerRule,
  stream: StreamRecord,
  span: StreamSpan,
  changes: readonly LoggedChange[],
): string[] {
  const own = changes.filter((change) => change.clientId === stream.clientId);
  const topicsList = (topics: Iterable<string>) => JSON.stringify([...topics].sort());
  const expected = own.flatMap((change, i) =>
    rule.shouldGet(change, span, changes)
      ? [`${topicsList(topicsAfter(stream.asked, own.slice(0, i + 1)))} ${change.id}`]
      : [],
  );
  const got = stream.events
    .filter((event) => event.type === 'topics')
    .map((event) => {
      const { topics } = JSON.parse(event.data) as { topics: string[] };
      return `${topicsList(topics)} ${event.id}`;
    });
  // On a log with one order a topics event carries its change's id; otherwise only its topics.
  const shown = (list: string[]) => (rule.compareIds ? list : list.map((t) => t.split(' ')[0]));
  const [want, have] = [shown(expected), shown(got)];
  return want.join() === have.join() ? [] : [`topics events ${have.join()} for ${want.join()}`];
}

/** The audits that found something, each problem cut to a few examples. */
export function failedAudits(audits: readonly StreamAudit[]): object[] {
  return audits
    .filter((audit) =>
      [audit.lost, audit.extra, audit.duplicated, audit.outOfOrder, audit.other].some(
        (problems) => problems.length > 0,
      ),
    )
    .map(({ stream, expected, received, ...problems }) => ({
      stream,
      expected,
      received,
      ...Object.fromEntries(
        Object.entries(problems).map(([kind, list]) => [
          kind,
          `${list.length}: ${list.slice(0, 4)}`,
        ]),
      ),
    }));
}
