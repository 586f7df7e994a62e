import { EventStreamContentType, fetchEventSource } from '@microsoft/fetch-event-source';

class FatalError extends Error {}

export function listen(url, token, onMessage) {
  const controller = new AbortController();
  fetchEventSource(url, {
    headers: { Authorization: `Bearer ${token}` },
    signal: controller.signal,
    // Else it ends the stream whenever the tab is hidden.
    openWhenHidden: true,
    async onopen(response) {
      const type = response.headers.get('content-type') ?? '';
      if (response.ok && type.startsWith(EventStreamContentType)) return;
      // A refused token or topic: trying again would not help.
      if (response.status >= 400 && response.status < 500) {
        throw new FatalError(`${response.status}`);
      }
      throw new Error(`${response.status}`);
    },
    onmessage: onMessage,
    // A stream the server ends (an instance shutting down) would stop it for good: come back.
    onclose() {
      throw new Error('stream ended');
    },
    // Returning retries (after the server's `retry`); only a throw stops it.
    onerror(err) {
      if (err instanceof FatalError) throw err;
    },
  });
  return () => controller.abort();
}
