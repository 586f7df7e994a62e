import { BusUnavailableError } from '../../errors/bus-unavailable.error.js';
import type { BusMessage } from '../bus-event.js';
import { HISTORY_PAGE_SIZE, HistoryGap } from '../bus-transport.js';
import {
  type LogPosition,
  comparePositions,
  formatEntryId,
  parseEntryId,
} from '../log-position.js';

/**
 * A page of a log's history as read from Redis, with its messages parsed once for all who share
 * it: a gap, or the messages and where the log stands (its top, and since when it is whole).
 */
export type LogPage =
  | { readonly gap: 'epoch' | 'lost' }
  | { readonly top: string; readonly since: string; readonly messages: readonly BusMessage[] };

/**
 * The messages of one log after `after`, `HISTORY_PAGE_SIZE` at a time: from `recent` where it
 * holds them, else read from Redis (`read(afterId)`). A gap (another epoch, a lost log, a cursor
 * ahead of the log or before what it still keeps) throws `HistoryGap`, never a partial history
 * passed off as complete.
 */
export async function* logHistory(
  after: LogPosition,
  read: (afterId: string) => Promise<LogPage>,
  recent: (after: LogPosition) => readonly BusMessage[] | undefined = () => undefined,
): AsyncIterable<readonly BusMessage[]> {
  for (let first = true; ; first = false) {
    const messages =
      recent(after) ??
      whole(
        await read(formatEntryId(after)).catch((err: unknown) => {
          throw new BusUnavailableError(`History unavailable: ${(err as Error).message}`);
        }),
        after,
        first,
      );
    if (messages.length > 0) {
      yield messages;
      after = messages[messages.length - 1].position;
    }
    if (messages.length < HISTORY_PAGE_SIZE) return;
  }
}

/** The page's messages, if it holds all there is after `after`. */
function whole(page: LogPage, after: LogPosition, first: boolean): readonly BusMessage[] {
  if ('gap' in page) throw new HistoryGap(page.gap);
  if (first && comparePositions(after, parseEntryId(page.top)) > 0) throw new HistoryGap('ahead');
  // Checked on every page: what was trimmed while the previous one was written is missed too.
  if (comparePositions(after, parseEntryId(page.since)) < 0) throw new HistoryGap('expired');
  return page.messages;
}
