import * as v from 'valibot';
import { type CatalogItem, toCatalogItem } from '../core/catalog.js';
import { OmniPersonaError } from '../core/errors.js';
import { ItemSchema } from '../core/event.js';
import { formatIssues } from './format-issues.js';

/** The most items one catalog import may carry. */
export const MAX_CATALOG_ITEMS = 1_000_000;

/**
 * A catalog as operators send it: an array of items or `{ items: [...] }`, where `category` may be a
 * path string (`'Shoes > Running'`). An array is wrapped first so that errors point at `items.<n>`.
 */
export const CatalogInputSchema = v.pipe(
  v.unknown(),
  v.transform((input) => (Array.isArray(input) ? { items: input } : input)),
  v.object({
    items: v.pipe(v.array(ItemSchema), v.minLength(1, 'Expected at least one item'), v.maxLength(MAX_CATALOG_ITEMS)),
  }),
);

/**
 * Validates a catalog from any source and normalises its items.
 * @throws OmniPersonaError `INVALID_REQUEST` saying which item is wrong and why.
 */
export function parseCatalogInput(input: unknown, source = 'Catalog'): CatalogItem[] {
  const result = v.safeParse(CatalogInputSchema, input);
  if (!result.success) {
    throw new OmniPersonaError('INVALID_REQUEST', `${source} is invalid: ${formatIssues(result.issues)}`);
  }
  return result.output.items.map(toCatalogItem);
}
