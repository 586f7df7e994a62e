import { DeadlineExceeded } from '../../src/redis/deadline.js';
import { PublishBatch } from '../../src/bus/transports/publish-batch.js';

/** A deadline no test reaches. */
const far = Date.now() + 60_000;

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
    const results = await Promise.all(items.map((item) => batch.add(item, far)));
    expect(calls).toEqual([items]);
    expect(results).toEqual(items.map((item) => item.toUpperCase()));
  });

  it('takes the adds that follow from other callbacks of the same turn', async () => {
    const { batch, calls } = upperCaser();
    const next = Promise.resolve().then(() => Promise.resolve().then(() => batch.add('b', far)));
    await Promise.all([batch.add('a', far), next]);
    expect(calls).toEqual([['a', 'b']]);
  });

  it('sends the adds of the next turn in a call of their own', async () => {
    const { batch, calls } = upperCaser();
    await batch.add('a', far);
    await Promise.all([batch.add('b', far), batch.add('c', far)]);
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
    const settled = await Promise.allSettled([1, 2, 3].map((n) => batch.add(n, far)));
    expect(settled).toEqual(
      [1, 2, 3].map(() => ({ status: 'rejected', reason: expect.any(Error) })),
    );
    fail = false;
    await expect(batch.add(4, far)).resolves.toBe(4);
  });

  it('rejects the adds of a call that throws instead of answering', async () => {
    const batch = new PublishBatch<number, number>(
      () => {
        throw new Error('broken');
      },
      { maxItems: 512, maxBytes: 1024, bytesOf: () => 1 },
    );
    await expect(batch.add(1, far)).rejects.toThrow('broken');
  });

  it('splits a turn at maxItems, keeping the order', async () => {
    const { batch, calls } = upperCaser({ maxItems: 4 });
    const items = 'abcdefghij'.split('');
    const results = await Promise.all(items.map((item) => batch.add(item, far)));
    expect(calls).toEqual([
      ['a', 'b', 'c', 'd'],
      ['e', 'f', 'g', 'h'],
      ['i', 'j'],
    ]);
    expect(results.join('')).toBe('ABCDEFGHIJ');
  });

  it('splits a turn at maxBytes, and sends an item larger than that alone', async () => {
    const { batch, calls } = upperCaser({ maxBytes: 10 });
    await Promise.all(['aaaa', 'bbbb', 'cccc', 'x'.repeat(20), 'dd'].map((i) => batch.add(i, far)));
    expect(calls).toEqual([['aaaa', 'bbbb'], ['cccc'], ['x'.repeat(20)], ['dd']]);
  });

  it('rejects an add at its own deadline, and the others of its batch at theirs or with the answer', async () => {
    let answer!: (results: string[]) => void;
    let until = 0;
    const batch = new PublishBatch<string, string>(
      (items, last) => {
        until = last;
        return new Promise((resolve) => (answer = resolve));
      },
      { maxItems: 512, maxBytes: 1024, bytesOf: () => 1 },
    );
    const now = Date.now();
    const soon = batch.add('soon', now + 20);
    const sooner = batch.add('sooner', now + 10);
    const patient = batch.add('patient', now + 60_000);
    await expect(sooner).rejects.toBeInstanceOf(DeadlineExceeded);
    await expect(soon).rejects.toBeInstanceOf(DeadlineExceeded);
    expect(until).toBe(now + 60_000);
    answer(['SOON', 'SOONER', 'PATIENT']);
    await expect(patient).resolves.toBe('PATIENT');
  });

  describe('addAll', () => {
    it('gives one promise for items added together, each outcome in their order, across calls', async () => {
      const { batch, calls } = upperCaser({ maxItems: 4 });
      const alone = batch.add('a', far);
      const all = batch.addAll('bcdefg'.split(''), far);
      const outcomes = await all;
      expect(calls).toEqual([
        ['a', 'b', 'c', 'd'],
        ['e', 'f', 'g'],
      ]);
      expect(outcomes).toEqual('BCDEFG'.split('').map((value) => ({ status: 'fulfilled', value })));
      await expect(alone).resolves.toBe('A');
      await expect(batch.addAll([], far)).resolves.toEqual([]);
    });

    it('rejects only the items of a call that fails', async () => {
      const batch = new PublishBatch<string, string>(
        async (items) => {
          if (items.includes('c')) throw new Error('refused');
          return items;
        },
        { maxItems: 2, maxBytes: 1024, bytesOf: () => 1 },
      );
      const outcomes = await batch.addAll(['a', 'b', 'c', 'd', 'e'], far);
      expect(outcomes.map((outcome) => outcome.status)).toEqual([
        'fulfilled',
        'fulfilled',
        'rejected',
        'rejected',
        'fulfilled',
      ]);
      expect(outcomes[2]).toEqual({ status: 'rejected', reason: new Error('refused') });
    });

    it('rejects the items at their deadline, and keeps that outcome once the answer comes', async () => {
      let answer!: (results: string[]) => void;
      const batch = new PublishBatch<string, string>(
        () => new Promise((resolve) => (answer = resolve)),
        { maxItems: 512, maxBytes: 1024, bytesOf: () => 1 },
      );
      const patient = batch.add('patient', Date.now() + 60_000);
      const outcomes = await batch.addAll(['x', 'y'], Date.now() + 10);
      expect(outcomes).toEqual([
        { status: 'rejected', reason: expect.any(DeadlineExceeded) },
        { status: 'rejected', reason: expect.any(DeadlineExceeded) },
      ]);
      answer(['PATIENT', 'X', 'Y']);
      await expect(patient).resolves.toBe('PATIENT');
      expect(outcomes[0].status).toBe('rejected');
    });
  });
});

describe('PublishBatch with a call in flight', () => {
  /** A batch whose calls answer only when told, and are recorded. */
  function held(maxItems = 512) {
    const calls: { items: string[]; answer: () => void }[] = [];
    const batch = new PublishBatch<string, string>(
      (items) => new Promise((resolve) => calls.push({ items, answer: () => resolve(items) })),
      { maxItems, maxBytes: 1024, bytesOf: () => 1 },
    );
    return { batch, calls };
  }

  /** Resolves after the next `setImmediate`, when a batch not held would have gone. */
  const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

  it('holds the adds of later turns until it answers, then sends them in one call', async () => {
    const { batch, calls } = held();
    const first = batch.add('a', far);
    await nextTurn();
    const later = [batch.add('b', far)];
    await nextTurn();
    later.push(batch.add('c', far));
    await nextTurn();
    expect(calls.map((call) => call.items)).toEqual([['a']]);
    calls[0].answer();
    await expect(first).resolves.toBe('a');
    await nextTurn();
    expect(calls.map((call) => call.items)).toEqual([['a'], ['b', 'c']]);
    calls[1].answer();
    await expect(Promise.all(later)).resolves.toEqual(['b', 'c']);
  });

  it('sends a full batch at once all the same', async () => {
    const { batch, calls } = held(2);
    const added = [batch.add('a', far)];
    await nextTurn();
    added.push(batch.add('b', far), batch.add('c', far));
    expect(calls.map((call) => call.items)).toEqual([['a'], ['b', 'c']]);
    calls.forEach((call) => call.answer());
    await expect(Promise.all(added)).resolves.toEqual(['a', 'b', 'c']);
  });

  it('sends what it holds at the first held deadline, and rejects what is past its own', async () => {
    const { batch, calls } = held();
    const first = batch.add('a', far);
    await nextTurn();
    const late = batch.add('late', Date.now() + 5);
    const onTime = batch.add('b', far);
    await expect(late).rejects.toBeInstanceOf(DeadlineExceeded);
    expect(calls.map((call) => call.items)).toEqual([['a'], ['b']]);
    calls.forEach((call) => call.answer());
    await expect(Promise.all([first, onTime])).resolves.toEqual(['a', 'b']);
  });
});
