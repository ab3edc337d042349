import { describe, expect, it } from 'vitest';
import { Catalog, type CatalogItem } from '../../../src/core/catalog.js';
import { cartOf } from '../../../src/core/features/cart.js';
import { rankItems } from '../../../src/core/ranking.js';
import { parseRecommendRequest, type RecommendRequest } from '../../../src/core/recommend-request.js';
import { item, setupPersonalizer } from './setup-personalizer.js';

const product = (id: string, category: string, brand?: string): CatalogItem => ({
  id,
  category: [category],
  ...(brand ? { brand } : {}),
});

const catalog = new Catalog([
  product('c1', 'Coffee', 'Acme'),
  product('c2', 'Coffee', 'Acme'),
  product('c3', 'Coffee', 'Brew'),
  product('c4', 'Coffee', 'Brew'),
  product('t1', 'Tea', 'Leaf'),
  product('t2', 'Tea', 'Leaf'),
  product('k1', 'Kitchen'),
]);
// By score: the coffees first, then the teas, then the kitchen item.
const scores = Float32Array.from([5, 4, 3, 2, 1, 0.5, 0]);

function rank(request: Partial<RecommendRequest>, excluded: string[] = []) {
  return rankItems(scores, parseRecommendRequest({ kind: 'for-you', ...request }), {
    catalog,
    excluded: new Set(excluded),
    reason: () => 'test',
  });
}
const ids = (picks: Array<{ item: CatalogItem }>) => picks.map((pick) => pick.item.id);

describe('ranking', () => {
  it('ranks by score, without excluded items', () => {
    expect(ids(rank({ count: 3 }, ['c2']))).toEqual(['c1', 'c3', 'c4']);
  });

  it('multiplies the odds of boosted items, brands and categories', () => {
    // Tea × e^4.5 moves t1 from 1 to 5.5, above every coffee; brand Brew × e^2 moves c3 to 5.
    const picks = rank({ count: 4, boost: { categories: { Tea: Math.exp(4.5) }, brands: { Brew: Math.exp(2) } } });
    expect(ids(picks)).toEqual(['t1', 'c1', 'c3', 't2']);
    expect(picks[0]?.score).toBeCloseTo(5.5, 5);
    // A factor below 1 lowers, and factors of several matches multiply.
    expect(ids(rank({ count: 2, boost: { items: { c1: Math.exp(-10) } } }))).toEqual(['c2', 'c3']);
    expect(() => rank({ boost: { items: { c1: 0 } } })).toThrow(/boost\.items\.c1/u);
  });

  it('keeps at most maxPerCategory of a category while others can fill the list, in score order', () => {
    expect(ids(rank({ count: 5, maxPerCategory: 2 }))).toEqual(['c1', 'c2', 't1', 't2', 'k1']);
    // Not enough other categories: the best held-back items fill the list.
    expect(ids(rank({ count: 6, maxPerCategory: 1 }))).toEqual(['c1', 'c2', 'c3', 'c4', 't1', 'k1']);
  });
});

describe('the cart', () => {
  const at = (type: string, id: string, extra: object = {}) => ({ type, item: { id }, ...extra }) as never;
  it('holds items added and neither removed nor bought since', () => {
    const events = [
      at('add_to_cart', 'a'),
      at('add_to_cart', 'b'),
      at('add_to_cart', 'c'),
      at('remove_from_cart', 'a'),
      { type: 'purchase', orderId: 'o', items: [{ item: { id: 'b' }, quantity: 1 }] } as never,
      at('view', 'd'),
    ];
    expect([...cartOf(events)]).toEqual(['c']);
  });

  it('is left out of recommendations by default, and kept when asked', async () => {
    const { personalizer } = setupPersonalizer();
    personalizer.track({ type: 'view', item: item('a') });
    personalizer.track({ type: 'view', item: item('b') });
    personalizer.track({ type: 'add_to_cart', item: item('b') });
    await personalizer.flush();
    const recent = async (request: Partial<RecommendRequest>) =>
      ids(await personalizer.recommend({ kind: 'recently-viewed', ...request }));
    expect(await recent({})).toEqual(['b', 'a']);
    expect(await recent({ excludeInCart: true })).toEqual(['a']);
  });
});

describe('impressions', () => {
  it('leave out items shown maxImpressions times that the shopper did not take up, until they do', async () => {
    const { personalizer, advance } = setupPersonalizer();
    for (const id of ['a', 'b', 'c']) personalizer.track({ type: 'view', item: item(id) });
    advance(10_000);
    await personalizer.flush();
    const recent = async () => ids(await personalizer.recommend({ kind: 'recently-viewed', maxImpressions: 2 }));
    await personalizer.shown(['a', 'b']);
    expect(await recent()).toEqual(['c', 'b', 'a']);
    await personalizer.shown(['a', 'b']);
    expect(await recent()).toEqual(['c']);
    // Viewing an item again resets its count.
    personalizer.track({ type: 'view', item: item('a') });
    await personalizer.flush();
    expect(await recent()).toEqual(['a', 'c']);
    // A week later, old impressions no longer count.
    advance(8 * 86_400_000);
    expect(await recent()).toEqual(['a', 'c', 'b']);
    await expect(personalizer.shown('a' as never)).rejects.toThrow(/shown\(\) takes an array of item ids/u);
  });
});
