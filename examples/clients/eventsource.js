import { EventSource } from 'eventsource';

export function listen(url, token, onMessage) {
  const source = new EventSource(url, {
    fetch: (input, init) =>
      fetch(input, { ...init, headers: { ...init.headers, Authorization: `Bearer ${token}` } }),
  });
  source.onmessage = onMessage;
  return () => source.close();
}
