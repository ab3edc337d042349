import type { CatalogItem } from '../catalog.js';
import type { CoVisitRows } from './protocol.js';

/**
 * Co-visits by index into `from` (the items of the catalog they were counted on), re-indexed through
 * each item's id by `rowOf` (its row in another catalog, or undefined where it has none). Pairs with
 * an item that has no row drop out; rows between those named stay empty, so the result is dense.
 */
export function reindexCoVisits(
  rows: CoVisitRows,
  from: readonly CatalogItem[],
  rowOf: (id: string) => number | undefined,
): CoVisitRows {
  const moved = (index: number) => {
    const id = from[index]?.id;
    return id === undefined ? undefined : rowOf(id);
  };
  const reindexed: CoVisitRows = [];
  rows.forEach((row, index) => {
    const at = moved(index);
    if (at === undefined) return;
    while (reindexed.length <= at) reindexed.push([]);
    reindexed[at] = row.flatMap(([target, weight]) => {
      const to = moved(target);
      return to === undefined ? [] : [[to, weight] as [number, number]];
    });
  });
  return reindexed;
}
