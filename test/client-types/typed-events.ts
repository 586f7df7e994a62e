// Compiled by test/unit/client-types.spec.ts: every `@ts-expect-error` must meet an error.
import { connect, type SseBusStream, type StreamState } from 'sse-bus/client';

interface Events {
  message: { text: string };
  shipped: { order: number };
}

const stream = connect<Events>('/sse/msg', { token: async () => 'a token' });
const off = stream.on('shipped', (data, meta) => {
  const order: number = data.order;
  const id: string | undefined = meta.id;
  return [order, id, meta.event];
});
off();
stream.on('message', (data) => data.text.toUpperCase());
stream.on('connected', ({ clientId }) => clientId.length);
stream.on('reset', ({ reason }) => reason.length);
stream.on('busy', ({ retryMs }) => retryMs.toFixed());
stream.on('disconnect', ({ reason }) => reason.length);
stream.on('state', (state) => state === 'reconnecting');
stream.on('error', (error) => error.status);
const state: StreamState = stream.state;
stream.close();

// @ts-expect-error: no such event in Events
stream.on('shiped', () => undefined);
// @ts-expect-error: shipped's data is { order: number }
stream.on('shipped', (data: { order: string }) => data);
// @ts-expect-error: a state is no number
stream.on('state', (value: number) => value);
// @ts-expect-error: not a state
const wrong: StreamState = 'gone';
// @ts-expect-error: the token is a string or gives one
connect('/sse/msg', { token: 42 });
// @ts-expect-error: no such option
connect('/sse/msg', { shareTab: false });

// Without a map, any name, and data to be checked before use.
const untyped: SseBusStream = connect('/sse/msg');
// @ts-expect-error: unknown data
untyped.on('anything', (data) => data.field);

export { state, wrong };
