import { describe, expect, it } from 'vitest';
import { Catalog, toCatalogItem } from '../../../src/core/catalog.js';
import { OmniPersonaError } from '../../../src/core/errors.js';
import { parseTrackInput } from '../../../src/core/event.js';

describe('events', () => {
  it('accepts each well-formed event type', () => {
    const item = { id: 'sku-1', name: 'Shoe', category: 'Shoes > Running', price: 89, currency: 'USD' };
    for (const event of [
      { type: 'page' },
      { type: 'view', item },
      { type: 'click', item, source: 'recs:for-you' },
      { type: 'add_to_cart', item, quantity: 2 },
      { type: 'purchase', orderId: 'o-1', items: [{ item, quantity: 1, price: 89 }] },
      { type: 'search', query: 'trail shoes', resultCount: 4 },
      { type: 'rate', item, rating: 4 },
      { type: 'custom', name: 'newsletter' },
    ]) {
      expect(parseTrackInput(event).type).toBe(event.type);
    }
  });

  it('refuses malformed events with a typed error naming the field', () => {
    const cases: Array<[unknown, string]> = [
      [{ type: 'view' }, 'item'],
      [{ type: 'view', item: { id: '' } }, 'item.id'],
      [{ type: 'view', item: { id: 'a', price: -5 } }, 'item.price'],
      [{ type: 'purchase', orderId: 'o', items: [{ item: { id: 'a' }, quantity: 1e9 }] }, 'items.0.quantity'],
      [{ type: 'teleport' }, 'type'],
      ['view', '(event)'],
    ];
    for (const [input, path] of cases) {
      let caught: unknown;
      try {
        parseTrackInput(input);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(OmniPersonaError);
      expect((caught as OmniPersonaError).code).toBe('INVALID_EVENT');
      expect((caught as Error).message).toContain(path);
    }
  });
});

describe('catalog', () => {
  it('keeps a stable row order, splits category paths and fills in metadata', () => {
    const catalog = new Catalog([toCatalogItem({ id: 'a', category: 'Shoes > Running' }), toCatalogItem({ id: 'b' })]);
    expect(catalog.get('a')?.category).toEqual(['Shoes', 'Running']);
    catalog.upsert(toCatalogItem({ id: 'b', name: 'Mug', category: ['Kitchen'] }));
    catalog.upsert(toCatalogItem({ id: 'c', category: 'Shoes' }));
    expect(catalog.items.map((item) => item.id)).toEqual(['a', 'b', 'c']);
    expect(catalog.get('b')?.name).toBe('Mug');
    expect(catalog.categories).toEqual(['(unknown)', 'Shoes', 'Kitchen']);
    expect([...catalog.itemCategories()]).toEqual([1, 2, 1]);
  });
});
