import type { Catalog, CatalogItem } from '../catalog.js';
import { CoVisits } from '../co-visits.js';
import { type CoVisitRows, MAX_CO_VISIT_NEIGHBOURS } from '../sync/protocol.js';
import { reindexCoVisits } from '../sync/reindex-co-visits.js';

/**
 * A catalog document's co-visits (by index into its `items`) as a table by this device's rows: each
 * item is found in `catalog` through its id, so items the device has no row for drop out.
 * @throws OmniPersonaError `INVALID_OPTIONS` for a weight that is not positive and finite.
 */
export function coVisitsByRow(items: readonly CatalogItem[], rows: CoVisitRows, catalog: Catalog): CoVisits {
  const byRow = reindexCoVisits(rows, items, (id) => catalog.indexOf(id));
  return CoVisits.fromRows(catalog.size, byRow, MAX_CO_VISIT_NEIGHBOURS);
}
