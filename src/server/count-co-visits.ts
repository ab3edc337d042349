import type { CatalogItem } from '../core/catalog.js';
import { CO_VISIT_DEFAULTS, CoVisits } from '../core/co-visits.js';
import type { CoVisitRows } from '../core/sync/protocol.js';
import { reindexCoVisits } from '../core/sync/reindex-co-visits.js';

/** What counting shoppers' histories against a catalog found. */
export interface CoVisitCount {
  /** The table by index into the catalog's items, trailing empty rows left out; undefined when it has no pair. */
  rows: CoVisitRows | undefined;
  /** Pairs in the table. */
  pairs: number;
  /** Item ids read from the histories. */
  read: number;
  /** Of those, ids the catalog does not list: left out of their history, which closes over the gap. */
  skipped: number;
  /** A few of the ids skipped, for the operator to check. */
  unknown: string[];
}

/** Ids of skipped items named in a {@link CoVisitCount}. */
const UNKNOWN_SHOWN = 10;

/**
 * Counts the co-visits of `histories` (item ids, oldest first) over `items` with the defaults the
 * devices rank with ({@link CO_VISIT_DEFAULTS}). Weights keep four significant digits: the table
 * travels to every device, and the ranking does not tell more apart.
 */
export function countCoVisits(items: readonly CatalogItem[], histories: Iterable<readonly string[]>): CoVisitCount {
  const rowOf = new Map(items.map((item, row) => [item.id, row]));
  let read = 0;
  let skipped = 0;
  const unknown = new Set<string>();
  const sequences: number[][] = [];
  for (const history of histories) {
    const rows: number[] = [];
    for (const id of history) {
      read++;
      const row = rowOf.get(id);
      if (row !== undefined) rows.push(row);
      else {
        skipped++;
        if (unknown.size < UNKNOWN_SHOWN) unknown.add(id);
      }
    }
    if (rows.length > 1) sequences.push(rows);
  }
  const table = CoVisits.count(sequences, items.length, CO_VISIT_DEFAULTS);
  const rows = table
    .rows()
    .map((row) => row.map(([to, weight]): [number, number] => [to, Number(weight.toPrecision(4))]));
  while (rows.length > 0 && rows.at(-1)?.length === 0) rows.pop();
  return { rows: rows.length > 0 ? rows : undefined, pairs: table.size, read, skipped, unknown: [...unknown] };
}

/**
 * Co-visits of a catalog's `from` items re-indexed for its `to` items, by id: what a catalog import
 * keeps. Pairs whose items `to` no longer lists are dropped.
 */
export function carryCoVisits(
  rows: CoVisitRows | undefined,
  from: readonly CatalogItem[],
  to: readonly CatalogItem[],
): CoVisitRows | undefined {
  if (!rows) return undefined;
  const rowOf = new Map(to.map((item, row) => [item.id, row]));
  const carried = reindexCoVisits(rows, from, (id) => rowOf.get(id));
  while (carried.length > 0 && carried.at(-1)?.length === 0) carried.pop();
  return carried.length > 0 ? carried : undefined;
}
