import { PublishBatch } from '../../src/bus/transports/publish-batch.js';

/** A batch of strings whose flush answers each with its upper case, and records its calls. */
function upperCaser(limits: { maxItems?: number; maxBytes?: number } = {}) {
  const calls: string[][] = [];
  const batch = new PublishBatch<string, string>(
    async (items) => {
      calls.push(items);
      return items.map((item) => item.toUpperCase());
    },
    { maxItems: 512, maxBytes: 1024, bytesOf: (item) => item.length, ...limits },
  );
  return { batch, calls };
}

describe('PublishBatch', () => {
  it('sends what is added in one turn with one call, and gives each add its own result', async () => {
    const { batch, calls } = upperCaser();
    const items = Array.from({ length: 100 }, (_, i) => `item ${i}`);
    const results = await Promise.all(items.map((item) => batch.add(item)));
    expect(calls).toEqual([items]);
    expect(results).toEqual(items.map((item) => item.toUpperCase()));
  });

  it('takes the adds that follow from other callbacks of the same turn', async () => {
    const { batch, calls } = upperCaser();
    const later = Promise.resolve().then(() => Promise.resolve().then(() => batch.add('b')));
    await Promise.all([batch.add('a'), later]);
    expect(calls).toEqual([['a', 'b']]);
  });

  it('sends the adds of the next turn in a call of their own', async () => {
    const { batch, calls } = upperCaser();
    await batch.add('a');
    await Promise.all([batch.add('b'), batch.add('c')]);
    expect(calls).toEqual([['a'], ['b', 'c']]);
  });

  it('rejects every add of a batch whose call fails, and only those', async () => {
    let fail = true;
    const batch = new PublishBatch<number, number>(
      async (items) => {
        if (fail) throw new Error('refused');
        return items;
      },
      { maxItems: 512, maxBytes: 1024, bytesOf: () => 1 },
    );
    const settled = await Promise.allSettled([1, 2, 3].map((n) => batch.add(n)));
    expect(settled).toEqual(
      [1, 2, 3].map(() => ({ status: 'rejected', reason: expect.any(Error) })),
    );
    fail = false;
    await expect(batch.add(4)).resolves.toBe(4);
  });

  it('rejects the adds of a call that throws instead of answering', async () => {
    const batch = new PublishBatch<number, number>(
      () => {
        throw new Error('broken');
      },
      { maxItems: 512, maxBytes: 1024, bytesOf: () => 1 },
    );
    await expect(batch.add(1)).rejects.toThrow('broken');
  });

  it('splits a turn at maxItems, keeping the order', async () => {
    const { batch, calls } = upperCaser({ maxItems: 4 });
    const items = 'abcdefghij'.split('');
    const results = await Promise.all(items.map((item) => batch.add(item)));
    expect(calls).toEqual([
      ['a', 'b', 'c', 'd'],
      ['e', 'f', 'g', 'h'],
      ['i', 'j'],
    ]);
    expect(results.join('')).toBe('ABCDEFGHIJ');
  });

  it('splits a turn at maxBytes, and sends an item larger than that alone', async () => {
    const { batch, calls } = upperCaser({ maxBytes: 10 });
    await Promise.all(['aaaa', 'bbbb', 'cccc', 'x'.repeat(20), 'dd'].map((i) => batch.add(i)));
    expect(calls).toEqual([['aaaa', 'bbbb'], ['cccc'], ['x'.repeat(20)], ['dd']]);
  });
});
