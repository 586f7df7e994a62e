import type { BusMessage } from '../bus-event.js';
import { HISTORY_PAGE_SIZE } from '../bus-transport.js';
import { comparePositions } from '../log-position.js';

/** One log's history being merged: its pages, the page at hand, and the next message in it. */
interface Cursor {
  readonly pages: AsyncIterator<readonly BusMessage[]>;
  page: readonly BusMessage[];
  next: number;
}

/**
 * The histories of several logs as one, by their entries' times (a position is the ms-seq of its
 * entry), as live streams would have seen them: each log's own order kept, ties between logs in
 * the order of `histories`. Pages of up to `HISTORY_PAGE_SIZE`, with one page of each log held at
 * a time; a log's `HistoryGap` is thrown, never a partial history passed off as complete.
 */
export async function* mergeHistories(
  histories: readonly AsyncIterable<readonly BusMessage[]>[],
): AsyncIterable<readonly BusMessage[]> {
  const cursors: Cursor[] = histories.map((history) => ({
    pages: history[Symbol.asyncIterator](),
    page: [],
    next: 0,
  }));
  // A cursor whose page is done reads its next one; one with none left is dropped.
  const refill = async (cursor: Cursor) => {
    const read = await cursor.pages.next();
    if (read.done) cursors.splice(cursors.indexOf(cursor), 1);
    else Object.assign(cursor, { page: read.value, next: 0 });
  };
  try {
    await Promise.all([...cursors].map(refill));
    let out: BusMessage[] = [];
    while (cursors.length > 0) {
      const first = cursors.reduce((min, cursor) =>
        comparePositions(cursor.page[cursor.next].position, min.page[min.next].position) < 0
          ? cursor
          : min,
      );
      out.push(first.page[first.next++]);
      if (out.length === HISTORY_PAGE_SIZE) {
        yield out;
        out = [];
      }
      if (first.next === first.page.length) await refill(first);
    }
    if (out.length > 0) yield out;
  } finally {
    // A replay left early (its stream closed): the logs still being read are let go.
    await Promise.all(cursors.map((cursor) => cursor.pages.return?.()));
  }
}
