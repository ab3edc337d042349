import { CO_VISIT_DEFAULTS, type CoVisitOptions, type CoVisits } from '../co-visits.js';

/**
 * Co-visits from one recent item that make a pick "shoppers who viewed it went on to this": one
 * shopper's next step, or two at two steps, and so on.
 */
const EXPLAINED_CO_VISITS = 1;

/**
 * Adds the co-visits of `history` (item rows, oldest first) to `scores` ({@link CoVisits.addTo}),
 * over its newest distinct items. Returns, for each item whose co-visits from one recent item reach
 * {@link EXPLAINED_CO_VISITS}, that item's row: what a reason can name.
 */
export function addCoVisits(
  table: CoVisits,
  scores: Float32Array,
  history: ArrayLike<number>,
  options: Pick<CoVisitOptions, 'recent' | 'weight'> = CO_VISIT_DEFAULTS,
): Map<number, number> {
  // The newest distinct items, newest first: a shopper going back to an item does not count it twice.
  const recent: number[] = [];
  for (let at = history.length - 1; at >= 0 && recent.length < options.recent; at--) {
    const row = history[at] as number;
    if (!recent.includes(row)) recent.push(row);
  }
  table.addTo(scores, [...recent].reverse(), options);
  const sources = new Map<number, { from: number; count: number }>();
  recent.forEach((from, k) => {
    const { items, weights } = table.neighbours(from);
    items.forEach((item, n) => {
      const count = (weights[n] as number) / (k + 1);
      if (count >= EXPLAINED_CO_VISITS && count > (sources.get(item)?.count ?? 0)) sources.set(item, { from, count });
    });
  });
  return new Map([...sources].map(([item, { from }]) => [item, from]));
}
