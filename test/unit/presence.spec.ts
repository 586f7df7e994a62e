import { BusCounters } from '../../src/bus/bus-counters.js';
import { Subject, type Subscription } from 'rxjs';
import { type BusEvent, InvalidQueryError, Presence } from '../../src/index.js';
import { ClientRouter } from '../../src/bus/client-router.js';
import { MemoryPresenceStore } from '../../src/presence/memory-presence.store.js';

function setup() {
  const router = new ClientRouter(new Subject<BusEvent>(), new BusCounters());
  const presence = new Presence(new MemoryPresenceStore(router));
  const open = (clientId: string, topics?: string[]): Subscription =>
    router.view({ clientId, topics: topics ? new Set(topics) : null }).subscribe();
  return { presence, open };
}

describe('Presence on the embedded bus', () => {
  it('counts clients and streams, per client and per topic, as streams open and end', async () => {
    const { presence, open } = setup();
    const streams = [open('ann', ['a', 'b']), open('ann'), open('ben', ['a']), open('cid', ['b'])];
    expect(await presence.count()).toEqual({ clients: 3, streams: 4 });
    expect(await presence.client('ann')).toEqual({ online: true, streams: 2 });
    expect(await presence.isOnline('dot')).toBe(false);
    expect((await presence.clientsOn('a')).sort()).toEqual(['ann', 'ben']);
    expect(await presence.clientsOn('a', 1)).toHaveLength(1);
    expect(await presence.clientsOn('none')).toEqual([]);

    streams[0].unsubscribe();
    streams[2].unsubscribe();
    expect(await presence.count()).toEqual({ clients: 2, streams: 2 });
    expect(await presence.client('ann')).toEqual({ online: true, streams: 1 });
    expect(await presence.clientsOn('a')).toEqual([]);
    expect(await presence.clientsOn('b')).toEqual(['cid']);
  });

  it.each([
    ['an empty client id', (p: Presence) => p.client(''), /clientId: .*1 to 256/],
    ['a client id with a control character', (p: Presence) => p.isOnline('a\u0085'), /control/],
    ['a bad topic', (p: Presence) => p.clientsOn('a b'), /topic "a b" must be/],
    ['a limit of 0', (p: Presence) => p.clientsOn('a', 0), /limit must be a whole number/],
    ['a fractional limit', (p: Presence) => p.clientsOn('a', 1.5), /limit must be/],
  ])('rejects %s with an InvalidQueryError saying what is wrong', async (_, query, message) => {
    const { presence } = setup();
    await expect(query(presence)).rejects.toThrow(InvalidQueryError);
    await expect(query(presence)).rejects.toThrow(message);
  });
});
