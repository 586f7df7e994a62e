import { SSE } from 'sse.js';

export function listen(url, token, onMessage) {
  const source = new SSE(url, {
    headers: { Authorization: `Bearer ${token}` },
    // Else it stays closed once the stream drops.
    autoReconnect: true,
  });
  source.addEventListener('message', onMessage);
  return () => source.close();
}
