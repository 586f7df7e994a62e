// Compiled by test/unit/client-types.spec.ts: every `@ts-expect-error` must meet an error.
import type { MessageEvent } from '@nestjs/common';
import type { Observable } from 'rxjs';
import type { MessageBus, StreamRequest } from 'sse-bus';

/** One map for both sides: `connect<Events>()` in the browser takes the same. */
interface Events {
  message: { text: string };
  shipped: { order: number };
}
type Topic = 'orders' | `project:${number}`;

declare const bus: MessageBus<Events, Topic>;
declare const request: StreamRequest;

export async function typed(): Promise<Observable<MessageEvent>> {
  await bus.publish({ text: 'hi' });
  await bus.publish({ order: 42 }, { event: 'shipped', clientId: 'alice', topic: 'orders' });
  await bus.publish({ text: 'to a project' }, { topic: ['project:42', 'orders'] });

  // @ts-expect-error: shipped's data is { order: number }
  await bus.publish({ order: '42' }, { event: 'shipped' });
  // @ts-expect-error: a message without a name is { text: string }
  await bus.publish({ order: 42 });
  // @ts-expect-error: no such event in Events
  await bus.publish({ order: 42 }, { event: 'shiped' });
  // @ts-expect-error: no such topic
  await bus.publish({ text: 'hi' }, { topic: 'order' });
  // @ts-expect-error: no such topic for a stream either
  bus.sse(request, { clientId: 'alice', topics: ['orders', 'project:x'] });
  return bus.sse(request, { clientId: 'alice', topics: ['orders', 'project:7'] });
}

// Without a map, any name and any data, as before.
declare const untyped: MessageBus;
export async function untypedUse(event: string, data: unknown): Promise<string> {
  await untyped.publish(data, { event, topic: ['anything'] });
  return untyped.publish({ any: 'thing' });
}

// What `app.get(MessageBus)` gives: untyped too.
declare const fromTheContainer: MessageBus<object>;
export const anyEvent = (event: string) => fromTheContainer.publish({ any: 1 }, { event });
