import { lastValueFrom, take, tap, toArray } from 'rxjs';
import type { BusEvent } from '../../src/index.js';
import { ClientRouter } from '../../src/bus/client-router.js';
import { BusCounters } from '../../src/bus/bus-counters.js';
import { resume } from '../../src/bus/resume.js';
import { MemoryTransport } from '../../src/bus/transports/memory.transport.js';
import { parseEventId } from '../../src/bus/event-id.js';
import { waitFor } from '../support/wait-for.js';

const message = (data: unknown, to: string[] | null = null, topics: string[] | null = null) => ({
  to,
  topics,
  event: undefined,
  data: JSON.stringify(data),
});

function setup(maxLength = 100, maxBytes = 1024 * 1024) {
  const transport = new MemoryTransport(
    maxLength,
    maxBytes,
    { windowMs: 60_000, maxKeys: 100 },
    60_000,
  );
  const metrics = new BusCounters();
  const router = new ClientRouter(transport.events$, metrics);
  const view = (clientId: string, lastEventId: string, count: number, topics?: string[]) => {
    const audience = { clientId, topics: topics ? new Set(topics) : null };
    // What a stream does with its lease: each event it is sent moves it on.
    const lease = transport.lease(audience, lastEventId);
    return lastValueFrom(
      resume(
        router.view(audience),
        transport,
        audience,
        lastEventId,
        Promise.resolve({ topics: audience.topics }),
        lease,
        { whenWritable: () => undefined },
        metrics,
      ).pipe(
        tap((event) => lease.advance(event)),
        take(count),
        toArray(),
      ),
    );
  };
  return { transport, view, metrics };
}

const summary = (events: BusEvent[]) =>
  events.map((event) =>
    event.kind === 'reset' ? `reset:${event.reason}` : JSON.parse(event.data),
  );

describe('resume', () => {
  it('replays what the client missed and may see, then goes live, exactly once and in order', async () => {
    const { transport, view } = setup();
    const cursor = transport.position();
    await transport.publish(message(1));
    await transport.publish(message('for b', ['b']));
    await transport.publish(message(2, ['a']));
    const events = view('a', cursor, 3);
    await transport.publish(message(3));
    expect(summary(await events)).toEqual([1, 2, 3]);
  });

  it('replays exactly what the stream would have got live: its topics, and no others', async () => {
    const { transport, view } = setup();
    const cursor = transport.position();
    await transport.publish(message('news', null, ['news']));
    await transport.publish(message('sport', null, ['sport']));
    await transport.publish(message('news for b', ['b'], ['news']));
    await transport.publish(message('news for a', ['a'], ['news']));
    await transport.publish(message('for a', ['a']));
    await transport.publish(message('all'));
    const events = view('a', cursor, 5, ['news']);
    await transport.publish(message('live news', null, ['news']));
    expect(summary(await events)).toEqual(['news', 'news for a', 'for a', 'all', 'live news']);
  });

  it('does not repeat at the seam what was published while the history was read', async () => {
    const { transport, view } = setup(10_000);
    const cursor = transport.position();
    for (let n = 0; n < 1200; n++) await transport.publish(message(n));
    const events = view('a', cursor, 1300);
    for (let n = 1200; n < 1300; n++) await transport.publish(message(n));
    expect(summary(await events)).toEqual(Array.from({ length: 1300 }, (_, n) => n));
  });

  it.each([
    ['garbage', () => 'not-an-id', 'malformed'],
    ['another epoch', () => 'otherEpoch.1-0', 'epoch'],
    [
      'an id ahead of the log',
      (position: string) => position.replace(/\.\d+/, '.99999999999999'),
      'ahead',
    ],
  ])('resets for %s, carrying the id live events continue from', async (_, cursor, reason) => {
    const { transport, view } = setup();
    await transport.publish(message(1));
    const position = transport.position();
    const events = view('a', cursor(position), 2);
    await transport.publish(message(2));
    const [reset, next] = await events;
    expect(reset).toMatchObject({ kind: 'reset', reason, id: position });
    expect(summary([next])).toEqual([2]);
  });

  it('resets for an id older than the retained history', async () => {
    const { transport, view } = setup(5);
    const cursor = transport.position();
    for (let n = 0; n < 20; n++) await transport.publish(message(n));
    const events = view('a', cursor, 1);
    expect(summary(await events)).toEqual(['reset:expired']);
  });

  it('resumes within the retained history even after older messages were trimmed', async () => {
    const { transport, view } = setup(5);
    for (let n = 0; n < 20; n++) await transport.publish(message(n));
    const cursor = transport.position();
    await transport.publish(message(20));
    await transport.publish(message(21));
    expect(summary(await view('a', cursor, 2))).toEqual([20, 21]);
  });

  it('keeps at most historyMaxBytes of data, and always the newest message', async () => {
    const { transport, view } = setup(1000, 10_000);
    const kilobyte = (n: number) => `${n}`.padEnd(998, '.');
    const cursors: string[] = [];
    for (let n = 0; n < 100; n++) {
      cursors.push(transport.position());
      await transport.publish(message(kilobyte(n)));
    }
    // 100 messages of 1,000 bytes, in 10,000: the first ones are gone, the last ones are there.
    expect(summary(await view('a', cursors[50], 1))).toEqual(['reset:expired']);
    expect(summary(await view('a', cursors[95], 5))).toEqual([95, 96, 97, 98, 99].map(kilobyte));
    // One message over the bound replaces all the others, and a client that had the one before
    // it still resumes.
    const beforeBig = transport.position();
    await transport.publish(message('x'.repeat(20_000)));
    expect(summary(await view('a', beforeBig, 1))).toEqual(['x'.repeat(20_000)]);
    expect(summary(await view('a', cursors[99], 1))).toEqual(['reset:expired']);
  });

  it('resets a client whose cursor is before an age cut, and replays one on or after it', async () => {
    const { transport, view } = setup();
    const before = transport.position();
    const old = await transport.publish(message('old'));
    // The age cut goes by the ids' milliseconds: the next message must have a later one.
    const oldMs = parseEventId(old)!.ms;
    await waitFor(() => Date.now() > oldMs, 'the clock to move on');
    const kept = await transport.publish(message('kept'));
    await transport.trimBefore(parseEventId(kept)!.ms);
    expect(summary(await view('a', before, 1))).toEqual(['reset:expired']);
    // It had the last message cut: it missed nothing.
    expect(summary(await view('a', old, 1))).toEqual(['kept']);
    // Everything cut: a client that had the newest message still resumes.
    await transport.trimBefore(Date.now() + 1);
    const live = view('a', kept, 1);
    await transport.publish(message('live'));
    expect(summary(await live)).toEqual(['live']);
    expect(summary(await view('a', old, 1))).toEqual(['reset:expired']);
  });
});
