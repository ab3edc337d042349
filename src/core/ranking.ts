import type { Catalog, CatalogItem } from './catalog.js';
import type { ParsedRecommendRequest, Recommendation } from './recommend-request.js';

export interface RankContext {
  catalog: Catalog;
  /** Item ids never to show (purchased, in the request's exclusions, ...). */
  excluded: ReadonlySet<string>;
  /** Explains why an item is shown. */
  reason: (item: CatalogItem) => string;
}

/**
 * Picks the best `count` items by score that pass the request's filters, after its boosts, with at
 * most `maxPerCategory` of one top-level category while other categories can still fill the list.
 */
export function rankItems(
  scores: Float32Array,
  request: ParsedRecommendRequest,
  context: RankContext,
): Recommendation[] {
  const boosted = applyBoosts(scores, request, context.catalog);
  const order = Array.from(boosted.keys()).sort((a, b) => (boosted[b] as number) - (boosted[a] as number));
  const picked: number[] = [];
  const held: number[] = [];
  const perCategory = new Map<string, number>();
  const cap = request.maxPerCategory ?? Number.POSITIVE_INFINITY;
  for (const row of order) {
    if (picked.length >= request.count) break;
    const item = context.catalog.at(row);
    if (!item || !passes(item, request, context.excluded)) continue;
    const category = item.category[0] ?? '';
    const taken = perCategory.get(category) ?? 0;
    if (taken >= cap) {
      held.push(row);
      continue;
    }
    perCategory.set(category, taken + 1);
    picked.push(row);
  }
  // Too few categories to honour the cap: the best of the held-back items fill the list.
  picked.push(...held.slice(0, request.count - picked.length));
  picked.sort((a, b) => (boosted[b] as number) - (boosted[a] as number));
  return picked.map((row) => {
    const item = context.catalog.at(row) as CatalogItem;
    return { item, score: boosted[row] as number, reason: context.reason(item) };
  });
}

/** Scores are logits: multiplying an item's odds by a factor adds its logarithm. */
function applyBoosts(scores: Float32Array, request: ParsedRecommendRequest, catalog: Catalog): Float32Array {
  const boost = request.boost;
  if (!boost) return scores;
  const boosted = Float32Array.from(scores);
  for (let row = 0; row < boosted.length; row++) {
    const item = catalog.at(row);
    if (!item) continue;
    const factor =
      (boost.items?.[item.id] ?? 1) *
      (item.brand === undefined ? 1 : (boost.brands?.[item.brand] ?? 1)) *
      (item.category[0] === undefined ? 1 : (boost.categories?.[item.category[0]] ?? 1));
    if (factor !== 1) boosted[row] = (boosted[row] as number) + Math.log(factor);
  }
  return boosted;
}

function passes(item: CatalogItem, request: ParsedRecommendRequest, excluded: ReadonlySet<string>): boolean {
  if (excluded.has(item.id) || request.exclude?.includes(item.id)) return false;
  if (request.category !== undefined && !item.category.join(' > ').startsWith(request.category)) return false;
  if (request.minPrice !== undefined && (item.price === undefined || item.price < request.minPrice)) return false;
  if (request.maxPrice !== undefined && (item.price === undefined || item.price > request.maxPrice)) return false;
  if (request.inStock === true && item.inStock === false) return false;
  return request.filter ? request.filter(item) : true;
}
