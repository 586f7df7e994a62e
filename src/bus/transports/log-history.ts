import type { BusMessage } from '../bus-event.js';
import { HistoryGap } from '../bus-transport.js';
import { type StreamPosition, comparePositions, formatStreamId, parseStreamId } from '../cursor.js';
import { BusUnavailableError } from '../errors/bus-unavailable.error.js';
import { HISTORY_PAGE_SIZE } from './history-page-size.js';

export type LogEntry = [id: string, fields: string[]];
/** What `HISTORY_SCRIPT` answers. */
export type HistoryReply = ['gap', 'epoch' | 'lost'] | ['ok', string, string, LogEntry[]];

/**
 * The entries of one Redis log after `after`, a page at a time, as `HISTORY_SCRIPT` gives them
 * (`page(afterId, count)`): a gap (another epoch, a lost log, a cursor ahead of the log or before
 * what it still keeps) throws `HistoryGap`, never a partial history passed off as complete.
 */
export async function* logHistory(
  after: StreamPosition,
  page: (afterId: string, count: number) => Promise<HistoryReply>,
  toMessage: (entry: LogEntry) => BusMessage,
): AsyncIterable<readonly BusMessage[]> {
  for (let first = true; ; first = false) {
    const reply = await page(formatStreamId(after), HISTORY_PAGE_SIZE).catch((err: unknown) => {
      throw new BusUnavailableError(`History unavailable: ${(err as Error).message}`);
    });
    if (reply[0] === 'gap') throw new HistoryGap(reply[1]);
    const [, top, since, entries] = reply;
    if (first && comparePositions(after, parseStreamId(top)) > 0) throw new HistoryGap('ahead');
    // Checked on every page: what was trimmed while the previous one was written is missed too.
    if (comparePositions(after, parseStreamId(since)) < 0) throw new HistoryGap('expired');
    const messages = entries.map(toMessage);
    if (messages.length > 0) {
      yield messages;
      after = messages[messages.length - 1].position;
    }
    if (messages.length < HISTORY_PAGE_SIZE) return;
  }
}
