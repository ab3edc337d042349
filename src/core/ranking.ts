import type { Catalog, CatalogItem } from './catalog.js';
import type { ParsedRecommendRequest, Recommendation } from './recommend-request.js';

export interface RankContext {
  catalog: Catalog;
  /** Item ids never to show (purchased, in the request's exclusions, ...). */
  excluded: ReadonlySet<string>;
  /** Explains why an item is shown. */
  reason: (item: CatalogItem) => string;
}

/** Picks the best `count` items by score that pass the request's filters. */
export function rankItems(
  scores: Float32Array,
  request: ParsedRecommendRequest,
  context: RankContext,
): Recommendation[] {
  const order = Array.from(scores.keys()).sort((a, b) => (scores[b] as number) - (scores[a] as number));
  const results: Recommendation[] = [];
  for (const row of order) {
    if (results.length >= request.count) break;
    const item = context.catalog.at(row);
    if (!item || !passes(item, request, context.excluded)) continue;
    results.push({ item, score: scores[row] as number, reason: context.reason(item) });
  }
  return results;
}

function passes(item: CatalogItem, request: ParsedRecommendRequest, excluded: ReadonlySet<string>): boolean {
  if (excluded.has(item.id) || request.exclude?.includes(item.id)) return false;
  if (request.category !== undefined && !item.category.join(' > ').startsWith(request.category)) return false;
  if (request.minPrice !== undefined && (item.price === undefined || item.price < request.minPrice)) return false;
  if (request.maxPrice !== undefined && (item.price === undefined || item.price > request.maxPrice)) return false;
  if (request.inStock === true && item.inStock === false) return false;
  return request.filter ? request.filter(item) : true;
}
