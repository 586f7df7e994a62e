import { RawSseClient } from './sse-client.js';
import type { TestApp } from './test-app.js';

/** A stream of `clientId`'s on the test app's own `@Sse()` endpoint, opened (`connected` read). */
export async function streamOf(app: TestApp, clientId: string): Promise<RawSseClient> {
  const client = new RawSseClient(`${app.url}/orders/events`, { 'x-user': clientId });
  await client.waitForEvents(1);
  return client;
}

/** The messages `client` got up to `{ marker }`, published after the others: every one before it is in. */
export async function messagesUpTo(client: RawSseClient, marker: string): Promise<unknown[]> {
  await client.waitForEvent((event) => event.data === JSON.stringify({ marker }), marker);
  return client.messages;
}
