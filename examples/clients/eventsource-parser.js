import { createParser } from 'eventsource-parser';

export function listen(url, token, onMessage) {
  const controller = new AbortController();
  const parser = createParser({ onEvent: onMessage });
  const read = async () => {
    const response = await fetch(url, {
      headers: { Authorization: `Bearer ${token}` },
      signal: controller.signal,
    });
    if (!response.ok) throw new Error(`${response.status}`);
    for await (const chunk of response.body.pipeThrough(new TextDecoderStream())) {
      parser.feed(chunk);
    }
  };
  // It ends with the stream: reconnecting, and resuming from the last id, is up to you.
  read().catch(() => undefined);
  return () => controller.abort();
}
