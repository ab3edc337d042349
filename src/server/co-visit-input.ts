import * as v from 'valibot';
import { OmniPersonaError } from '../core/errors.js';
import { formatIssues } from './format-issues.js';

/** The most shopper histories one co-visit import may carry. */
export const MAX_CO_VISIT_HISTORIES = 1_000_000;

/** The most items one shopper's history may list; a longer one is refused (send its newest part). */
export const MAX_HISTORY_ITEMS = 10_000;

/** An item id as the catalog holds it. */
export const HistoryItemSchema = v.pipe(v.string(), v.minLength(1), v.maxLength(200));

/**
 * The body of `PUT /v1/co-visits`: the shop's own records of what its shoppers viewed or bought, one
 * list of item ids per shopper, oldest first (orders, browsing sessions, any sequence the shop keeps).
 * No shopper is named: only the order of the items counts.
 */
export const CoVisitInputSchema = v.object({
  histories: v.pipe(
    v.array(v.pipe(v.array(HistoryItemSchema), v.maxLength(MAX_HISTORY_ITEMS))),
    v.maxLength(MAX_CO_VISIT_HISTORIES),
  ),
});
export type CoVisitInput = v.InferOutput<typeof CoVisitInputSchema>;

/**
 * Validates shopper histories from any source.
 * @throws OmniPersonaError `INVALID_REQUEST` saying which history or item is wrong and why.
 */
export function parseCoVisitInput(histories: unknown): string[][] {
  const result = v.safeParse(CoVisitInputSchema, { histories });
  if (!result.success) {
    throw new OmniPersonaError('INVALID_REQUEST', `Invalid shopper histories: ${formatIssues(result.issues)}`);
  }
  return result.output.histories;
}
