import { createEventSource } from 'eventsource-client';

export function listen(url, token, onMessage) {
  const source = createEventSource({
    url,
    headers: { Authorization: `Bearer ${token}` },
    onMessage,
  });
  return () => source.close();
}
