import { InvalidMessageError } from '../errors/invalid-message.error.js';
import { MessageTooLargeError } from '../errors/message-too-large.error.js';
import { TooManyRecipientsError } from '../errors/too-many-recipients.error.js';
import type { OutgoingMessage } from './bus-transport.js';
import { idempotencyOf } from './idempotency.js';
import { DISCONNECT_EVENT } from './disconnect.js';
import { contentBytes } from './message-size.js';
import { TOPICS_EVENT } from './topic-change.js';
import { checkTopics } from './topics.js';

/** Options of `MessageBus.publish()`. */
export interface PublishOptions {
  /** Who receives it: one client id or several. Omitted: every client (a broadcast). */
  clientId?: string | readonly string[];
  /** The SSE event name. Omitted: the default `message` type. */
  event?: string;
  /**
   * The topic or topics it is published on: it reaches only the streams subscribed to one of
   * them (with `clientId` too, only those clients' streams). Omitted: no topic.
   */
  topic?: string | readonly string[];
  /**
   * Names the publish so that a retry lands once: a publish with a key the bus has seen within
   * `idempotencyWindowMs` resolves to the first one's id and delivers nothing. 1 to 255
   * printable ASCII characters, without spaces.
   */
  idempotencyKey?: string;
}

/** What `MessageBus.changeTopics()` is given: topics its client's streams join and leave. */
export interface TopicChangeOptions {
  join?: string | readonly string[];
  leave?: string | readonly string[];
}

/**
 * Event names the stream itself uses, and those the browser client (`sse-bus/client`) gives its
 * own meaning (`state`): a publisher cannot forge them.
 */
export const RESERVED_EVENTS: readonly string[] = [
  'connected',
  'reset',
  'busy',
  'closing',
  'error',
  'state',
  DISCONNECT_EVENT,
  TOPICS_EVENT,
];

const EVENT_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
const MAX_LINE_LENGTH = 256;
// C0 and C1 controls (U+0085 among them), DEL and the Unicode line and paragraph separators:
// a client id (or a reason) must not end a frame, a header or a log line, for any parser that splits on them.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/; // eslint-disable-line no-control-regex
/** Line ends that JSON.stringify leaves raw: the SSE spec keeps them in a field, some parsers split there. */
const RAW_LINE_END = /[\u0085\u2028\u2029]/;

/** Why `clientId` cannot be a client id, or undefined when it can. */
export function clientIdProblem(clientId: unknown): string | undefined {
  return lineProblem(clientId, 'a client id');
}

/**
 * Why `text` cannot be `what` (a client id, a reason): a string of 1 to 256 characters that ends
 * no line, or undefined when it can.
 */
export function lineProblem(text: unknown, what: string): string | undefined {
  if (typeof text !== 'string') return `${what} must be a string`;
  if (text.length === 0 || text.length > MAX_LINE_LENGTH) {
    return `${what} must be 1 to ${MAX_LINE_LENGTH} characters long`;
  }
  if (CONTROL.test(text)) return `${what} must not contain control characters or line separators`;
  return undefined;
}

/**
 * Checks and serializes what `publish()` was given; throws a precise error when it cannot.
 * `maxRecipients`: client ids it may name (no limit by default).
 */
export function toOutgoingMessage(
  data: unknown,
  options: PublishOptions,
  maxMessageBytes: number,
  maxRecipients = Infinity,
): OutgoingMessage {
  const { clientId, event, topic, idempotencyKey } = options;
  if (event !== undefined) {
    if (typeof event !== 'string' || !EVENT_NAME.test(event)) {
      throw new InvalidMessageError('event must be 1 to 64 of [A-Za-z0-9_.:-]');
    }
    if (RESERVED_EVENTS.includes(event)) {
      throw new InvalidMessageError(`event "${event}" is reserved by the stream`);
    }
  }
  const to = clientId === undefined ? null : Array.isArray(clientId) ? clientId : [clientId];
  if (to !== null) {
    if (to.length === 0) throw new InvalidMessageError('clientId must not be an empty list');
    if (to.length > maxRecipients) throw new TooManyRecipientsError(to.length, maxRecipients);
    const problem = to.map(clientIdProblem).find((each) => each !== undefined);
    if (problem) throw new InvalidMessageError(`clientId: ${problem}`);
  }
  const topics =
    topic === undefined
      ? null
      : checkTopics(topic, 'topic', (text) => new InvalidMessageError(text));
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch (err) {
    throw new InvalidMessageError(`data is not JSON-serializable: ${(err as Error).message}`);
  }
  if (json === undefined) throw new InvalidMessageError('data must be a JSON value');
  // Escaped, the JSON value stays the same for every client; the quick test keeps the usual path free.
  if (RAW_LINE_END.test(json)) json = json.replace(/[\u0085\u2028\u2029]/g, escapeCharacter);
  // A list may name a client twice; a lone id is a fresh list already.
  const recipients = to === null || typeof clientId === 'string' ? to : [...new Set(to)];
  const message = { to: recipients, topics, event, data: json };
  const bytes = contentBytes(message);
  if (bytes > maxMessageBytes) throw new MessageTooLargeError(bytes, maxMessageBytes);
  if (idempotencyKey === undefined) return message;
  return { ...message, idempotency: idempotencyOf(idempotencyKey, message) };
}

/**
 * Checks a change of `clientId`'s topics and makes it a message to that client, which the log
 * keeps in order with the others, and refuses when it would leave the client joined to more than
 * `maxJoined` topics; throws `InvalidMessageError` saying what is wrong.
 */
export function toTopicChangeMessage(
  clientId: string,
  { join, leave }: TopicChangeOptions,
  maxJoined: number,
): OutgoingMessage {
  const problem = clientIdProblem(clientId);
  if (problem) throw new InvalidMessageError(`clientId: ${problem}`);
  const invalid = (text: string) => new InvalidMessageError(text);
  const listed = (topics: TopicChangeOptions['join'], what: string) =>
    topics === undefined || (Array.isArray(topics) && topics.length === 0)
      ? []
      : checkTopics(topics, what, invalid);
  const change = { join: listed(join, 'join'), leave: listed(leave, 'leave') };
  if (change.join.length + change.leave.length === 0) {
    throw invalid('a change must join or leave at least one topic');
  }
  const both = change.join.find((topic) => change.leave.includes(topic));
  if (both) throw invalid(`topic "${both}" is both joined and left`);
  const data = JSON.stringify(change);
  const topicChange = { ...change, maxJoined };
  return { to: [clientId], topics: null, event: TOPICS_EVENT, data, topicChange };
}

function escapeCharacter(character: string): string {
  return `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;
}
