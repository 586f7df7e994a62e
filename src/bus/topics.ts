/** Topics one stream may subscribe to, at most. */
export const MAX_TOPICS = 32;

// No character that could end a frame or a line, or open a Redis hash tag.
const TOPIC = /^[A-Za-z0-9_.:/-]{1,128}$/;

/** Why `topic` cannot be a topic name, or undefined when it can. */
export function topicProblem(topic: unknown): string | undefined {
  if (typeof topic !== 'string') return 'a topic must be a string';
  if (!TOPIC.test(topic)) {
    return `topic "${printable(topic)}" must be 1 to 128 of [A-Za-z0-9_.:/-]`;
  }
  return undefined;
}

/**
 * Checks a list of topic names (one name or an array) and returns it without repeats; the
 * message of the error it throws says what is wrong, for `what` (`topic`, `topics`).
 */
export function checkTopics(
  input: unknown,
  what: string,
  toError: (message: string) => Error,
): string[] {
  const list: unknown[] = Array.isArray(input) ? input : [input];
  if (list.length === 0) throw toError(`${what} must not be an empty list`);
  const problem = list.map(topicProblem).find((each) => each !== undefined);
  if (problem) throw toError(`${what}: ${problem}`);
  const topics = [...new Set(list as string[])];
  if (topics.length > MAX_TOPICS) {
    throw toError(`${what}: at most ${MAX_TOPICS} topics, got ${topics.length}`);
  }
  return topics;
}

/** Whether a grant (an exact name, or `prefix*`) covers `topic`. */
export function grants(patterns: readonly string[], topic: string): boolean {
  return patterns.some((pattern) =>
    pattern.endsWith('*') ? topic.startsWith(pattern.slice(0, -1)) : pattern === topic,
  );
}

/** A bad name quoted back in an error: short, and with nothing that could break a log line. */
function printable(text: string): string {
  const cut = text.length > 64 ? `${text.slice(0, 64)}…` : text;
  return cut.replace(/[^\x20-\x7e]/g, '?');
}
