import * as v from 'valibot';
import { OmniPersonaError } from '../core/errors.js';
import { HistoryItemSchema, MAX_CO_VISIT_HISTORIES, MAX_HISTORY_ITEMS } from './co-visit-input.js';
import { csvRecords, jsonLines } from './feed-rows.js';
import { formatIssues } from './format-issues.js';

/**
 * How a co-visit feed is laid out: CSV with a header row naming `shopper`, `item` and `time` (other
 * columns are ignored), or one JSON object `{ "shopper", "item", "time" }` per line. `time` is a
 * number in any unit that grows with time, or an ISO 8601 date.
 */
export type CoVisitFeedFormat = 'csv' | 'jsonl';

const Time = v.union([
  v.pipe(v.number(), v.finite()),
  v.pipe(
    v.string(),
    v.transform((text) => (/^-?\d+(\.\d+)?$/u.test(text.trim()) ? Number(text) : Date.parse(text))),
    v.finite('Expected a number or an ISO 8601 date'),
  ),
]);

const FeedRowSchema = v.object({
  shopper: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
  item: HistoryItemSchema,
  time: Time,
});

/**
 * Reads a feed of `shopper,item,time` rows (an export of the shop's orders or browsing) into one
 * history of item ids per shopper, each sorted by time (rows of one time keep the feed's order).
 * @throws OmniPersonaError `INVALID_REQUEST` naming the first bad row.
 */
export function parseCoVisitFeed(text: string, format: CoVisitFeedFormat): string[][] {
  const rows =
    format === 'csv'
      ? csvRecords(text, (reason) => `Co-visit feed is not valid CSV: ${reason}`)
      : jsonLines(text, (line, reason) => `Co-visit feed line ${line} is not JSON: ${reason}`);
  const byShopper = new Map<string, Array<{ item: string; time: number }>>();
  for (const [index, row] of rows.entries()) {
    const parsed = v.safeParse(FeedRowSchema, row);
    if (!parsed.success) {
      throw new OmniPersonaError(
        'INVALID_REQUEST',
        `Co-visit feed row ${index + 1} is invalid: ${formatIssues(parsed.issues)}`,
      );
    }
    const { shopper, item, time } = parsed.output;
    const history = byShopper.get(shopper) ?? [];
    if (history.length === 0) {
      if (byShopper.size >= MAX_CO_VISIT_HISTORIES) {
        throw new OmniPersonaError('INVALID_REQUEST', `Expected at most ${MAX_CO_VISIT_HISTORIES} shoppers in a feed`);
      }
      byShopper.set(shopper, history);
    }
    if (history.length >= MAX_HISTORY_ITEMS) {
      throw new OmniPersonaError(
        'INVALID_REQUEST',
        `Expected at most ${MAX_HISTORY_ITEMS} rows per shopper; shopper "${shopper}" has more`,
      );
    }
    history.push({ item, time });
  }
  // Array.prototype.sort is stable: rows of one time stay in the feed's order.
  return [...byShopper.values()].map((history) => history.sort((a, b) => a.time - b.time).map((row) => row.item));
}
