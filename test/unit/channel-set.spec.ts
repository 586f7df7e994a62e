import { ChannelSet } from '../../src/bus/transports/channel-set.js';

/** Whether `promise` has settled once every callback queued so far has run. */
async function settled(promise: Promise<void> | undefined): Promise<boolean> {
  let done = false;
  void promise?.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('ChannelSet', () => {
  it('counts the streams that want a channel, and names only those first wanted or last released', () => {
    const set = new ChannelSet();
    expect(set.want(['a', 'b'])).toEqual(['a', 'b']);
    expect(set.want(['b', 'c'])).toEqual(['c']);
    expect(set.all).toEqual(['a', 'b', 'c']);

    expect(set.release(['a', 'b'])).toEqual(['a']);
    expect(set.wants('a')).toBe(false);
    expect(set.wants('b')).toBe(true);
    expect(set.release(['b', 'c'])).toEqual(['b', 'c']);
    expect(set.all).toEqual([]);
  });

  it('lets a stream wait until each of its channels is subscribed, by an answer or a taking', async () => {
    const set = new ChannelSet();
    set.want(['a', 'b']);
    const [a, b] = set.sending(['a', 'b']);
    const both = set.whenSubscribed(['a', 'b']);
    const onlyA = set.whenSubscribed(['a']);

    set.confirmSubscribe(['a'], [a]);
    expect(await settled(onlyA)).toBe(true);
    expect(await settled(both)).toBe(false);
    set.confirmSubscribe(['b'], [b]);
    expect(await settled(both)).toBe(true);
    expect(set.whenSubscribed(['a', 'b'])).toBeUndefined();

    set.want(['c']);
    const c = set.whenSubscribed(['c']);
    expect(await settled(c)).toBe(false);
    set.taken(['a', 'b', 'c']);
    expect(await settled(c)).toBe(true);
  });

  it('takes no subscribe answer overtaken by a release and a new subscribe as subscribing', () => {
    const set = new ChannelSet();
    set.want(['a']);
    const [first] = set.sending(['a']);
    set.release(['a']);
    set.sending(['a']);
    set.want(['a']);
    const [second] = set.sending(['a']);

    set.confirmSubscribe(['a'], [first]);
    expect(set.missing()).toEqual(['a']);
    expect(set.whenSubscribed(['a'])).toBeDefined();
    set.confirmSubscribe(['a'], [second]);
    expect(set.missing()).toEqual([]);
  });

  it('counts as subscribed, once taken afresh, only the taken channels still wanted', () => {
    const set = new ChannelSet();
    set.want(['a', 'b']);
    const taking = set.all;
    set.release(['b']);
    set.want(['c']);
    set.taken(taking);
    expect(set.missing()).toEqual(['c']);

    // Released while the subscription was taken: not subscribed when wanted again.
    set.want(['b']);
    expect(set.missing()).toEqual(['c', 'b']);
  });

  it('counts nothing as subscribed once the connection is lost', () => {
    const set = new ChannelSet();
    set.want(['a', 'b']);
    set.taken(['a', 'b']);
    expect(set.missing()).toEqual([]);
    set.lost();
    expect(set.missing()).toEqual(['a', 'b']);
    expect(set.whenSubscribed(['a'])).toBeDefined();
  });

  it('misses a channel released and wanted again, until it is subscribed again', () => {
    const set = new ChannelSet();
    set.want(['a', 'b']);
    set.taken(['a', 'b']);
    set.release(['a']);
    set.want(['a', 'c']);
    expect(set.missing()).toEqual(['a', 'c']);
  });

  it('forgets a channel on an unsubscribe answer only if no later request was sent for it', () => {
    const set = new ChannelSet();
    set.want(['a', 'b']);
    set.release(['a', 'b']);
    const unsubscribes = set.sending(['a', 'b']);
    set.want(['b']);
    const [subscribe] = set.sending(['b']);

    set.confirmUnsubscribe(['a', 'b'], unsubscribes);
    // A forgotten channel's generations start over; b's still count from the later subscribe.
    expect(set.sending(['a', 'b'])).toEqual([1, subscribe + 1]);
  });
});
