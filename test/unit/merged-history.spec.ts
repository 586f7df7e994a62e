import type { BusMessage } from '../../src/bus/bus-event.js';
import { HISTORY_PAGE_SIZE, HistoryGap } from '../../src/bus/bus-transport.js';
import { mergeHistories } from '../../src/bus/transports/merged-history.js';

const entry = (shard: number, ms: number, seq = 0) =>
  ({ shard, position: { ms, seq } }) as unknown as BusMessage;

/** A shard's history in pages of `size`, as a log gives it. */
async function* pages(messages: BusMessage[], size = HISTORY_PAGE_SIZE) {
  for (let i = 0; i < messages.length; i += size) yield messages.slice(i, i + size);
}

const read = async (histories: AsyncIterable<readonly BusMessage[]>[]) => {
  const out: (readonly BusMessage[])[] = [];
  for await (const page of mergeHistories(histories)) out.push(page);
  return out;
};

describe('mergeHistories', () => {
  it('interleaves the shards by entry time across their pages, ties in shard order', async () => {
    const even = [...Array(HISTORY_PAGE_SIZE).keys()].map((n) => entry(0, 2 * n));
    const odd = [...Array(HISTORY_PAGE_SIZE).keys()].map((n) => entry(1, 2 * n + 1));
    const out = await read([pages(even, 7), pages(odd, 3), pages([entry(2, 4), entry(2, 4, 1)])]);
    expect(out.map((page) => page.length)).toEqual([HISTORY_PAGE_SIZE, HISTORY_PAGE_SIZE, 2]);
    expect(out.flat().map(({ shard, position }) => [shard, position.ms, position.seq])).toEqual(
      [...Array(2 * HISTORY_PAGE_SIZE).keys()].flatMap((ms) =>
        ms === 4
          ? [
              [0, 4, 0],
              [2, 4, 0],
              [2, 4, 1],
            ]
          : [[ms % 2, ms, 0]],
      ),
    );
  });

  it("throws a shard's gap, whatever the others have", async () => {
    async function* gap(): AsyncIterable<readonly BusMessage[]> {
      yield [entry(1, 1)];
      throw new HistoryGap('expired');
    }
    await expect(read([pages([entry(0, 0), entry(0, 5)]), gap()])).rejects.toThrow(HistoryGap);
  });
});
