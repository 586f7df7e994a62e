import { EventSourcePolyfill } from 'event-source-polyfill';

export function listen(url, token, onMessage) {
  const source = new EventSourcePolyfill(url, {
    headers: { Authorization: `Bearer ${token}` },
  });
  source.onmessage = onMessage;
  return () => source.close();
}
