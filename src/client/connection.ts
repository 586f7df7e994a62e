import { eventStreamParser } from './event-stream-parser.js';
import type { StreamSink } from './local-stream.js';
import type { ConnectOptions, StreamError } from './types.js';

/** EventSource's usual wait before the server has said its own (`retry:`). */
const DEFAULT_RETRY_MS = 3000;
/** The longest wait between two attempts, however many failed in a row. */
const MAX_RETRY_MS = 60_000;

/**
 * Streams `url` into `stream` over fetch (which, unlike EventSource, sends a header), until
 * `signal` aborts or the server says to stop: 204, or a refusal (4xx but 429, or a body that is
 * not an event stream) that the same request would meet again. Anything else, a stream that ended
 * or broke, a 5xx, no network, comes back after the server's `retry` and a jitter, backed off while
 * attempts keep failing, from the last id seen. A hidden tab keeps its stream.
 */
export async function runConnection(
  url: string,
  { token, credentials = 'same-origin' }: ConnectOptions,
  stream: StreamSink,
  signal: AbortSignal,
): Promise<void> {
  let retry = DEFAULT_RETRY_MS;
  let failures = 0;
  for (let attempt = 0; !signal.aborted; attempt++) {
    // A tab that takes over a shared stream finds it open.
    if (attempt > 0 || stream.state === 'open') stream.setState('reconnecting');
    try {
      const bearer = typeof token === 'function' ? await token() : token;
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      if (bearer) headers.authorization = `Bearer ${bearer}`;
      if (stream.lastId) headers['last-event-id'] = stream.lastId;
      const response = await fetch(url, { headers, credentials, cache: 'no-store', signal });
      if (response.status === 204) return stream.setState('closed');
      const refused = refusal(response);
      if (refused) return stream.setState('closed', refused);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      failures = 0;
      stream.setState('open');
      const feed = eventStreamParser(
        (event) => stream.deliver(event),
        (ms) => (retry = ms),
      );
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      for (let read; !(read = await reader.read()).done;) feed(read.value);
    } catch {
      failures++;
    }
    const wait = Math.min(retry * 2 ** failures, MAX_RETRY_MS);
    await sleep(wait * (1 + Math.random() / 2), signal);
  }
}

/** Waits `ms`, or less if `signal` aborts: a closing tab lets go of a shared stream at once. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

/** Why the same request would fail again, if it would. */
function refusal({ status, ok, headers }: Response): StreamError | undefined {
  const problem =
    status >= 400 && status < 500 && status !== 429
      ? `refused: HTTP ${status}`
      : ok && !headers.get('content-type')?.startsWith('text/event-stream')
        ? 'not an event stream'
        : undefined;
  return problem ? Object.assign(new Error(problem), { status }) : undefined;
}
