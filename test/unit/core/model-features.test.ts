import { describe, expect, it } from 'vitest';
import { Catalog, toCatalogItem } from '../../../src/core/catalog.js';
import type { TrackedEvent } from '../../../src/core/event.js';
import { historyInput, itemSteps, trainingExamples } from '../../../src/core/features/history.js';
import {
  checkWeights,
  HISTORY_LENGTH,
  initialWeights,
  modelSpec,
  RECENCY_LIMITS_MS,
  SIGNALS,
  sharedPart,
  signalRow,
  withItemRows,
} from '../../../src/core/model/model-spec.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function catalog(): Catalog {
  return new Catalog(
    [
      { id: 'a', category: 'Shoes', brand: 'Stride', price: 10 },
      { id: 'b', category: 'Shoes', brand: 'Stride', price: 20 },
      { id: 'c', category: 'Shoes', brand: 'Peak', price: 30 },
      { id: 'd', category: 'Shoes', price: 40 },
      { id: 'e', category: 'Shoes', brand: ' ', price: 50 },
      { id: 'f', category: 'Coffee', brand: 'Peak', price: 1000 },
      { id: 'g', category: 'Coffee' },
    ].map(toCatalogItem),
  );
}

/** An event with only what `itemSteps` reads: its type, time and items. */
function event(type: TrackedEvent['type'], id: string, time: number): TrackedEvent {
  const item = { id };
  const items = type === 'purchase' ? { items: [{ item, quantity: 1 }] } : { item };
  return { type, time, ...items } as unknown as TrackedEvent;
}

describe('item side features', () => {
  it('numbers brands from 1 in order of appearance, blank and missing brands as unknown (0)', () => {
    const items = catalog();
    expect(items.brands).toEqual(['(unknown)', 'Stride', 'Peak']);
    expect([...items.itemBrands()]).toEqual([1, 1, 2, 0, 0, 2, 0]);
  });

  it('bands prices by quintile within the top-level category, unknown prices as 0', () => {
    // Shoes has five priced items: one per quintile. Coffee's only priced item is its cheapest fifth.
    expect([...catalog().itemPriceBands()]).toEqual([1, 2, 3, 4, 5, 1, 0]);
  });

  it('keeps brand rows stable when metadata is filled in and when the catalog is replaced', () => {
    const items = catalog();
    items.upsert(toCatalogItem({ id: 'g', category: 'Coffee', brand: 'Roast' }));
    expect(items.brands).toEqual(['(unknown)', 'Stride', 'Peak', 'Roast']);
    const copy = new Catalog();
    copy.replaceWith(items);
    expect([...copy.itemBrands()]).toEqual([...items.itemBrands()]);
  });
});

describe('history signals', () => {
  it('gives each kind and recency bucket its own signal row', () => {
    const rows = new Set<number>();
    for (const kind of ['view', 'cart', 'purchase', 'rate'] as const) {
      for (const age of [0, ...RECENCY_LIMITS_MS, 400 * DAY]) rows.add(signalRow(kind, age));
    }
    expect(rows.size).toBe(SIGNALS);
    expect(Math.max(...rows)).toBe(SIGNALS - 1);
    expect(signalRow('view', HOUR - 1)).toBe(signalRow('view', 0));
    expect(signalRow('view', HOUR)).not.toBe(signalRow('view', 0));
  });

  it('reads consecutive events on one item as one step of the strongest kind, with its recency at scoring time', () => {
    const now = 100 * DAY;
    const events = [
      event('view', 'a', now - 10 * DAY),
      event('add_to_cart', 'a', now - 10 * DAY + 1),
      event('view', 'a', now - 10 * DAY + 2),
      event('page', 'b', now - 5 * DAY),
      event('purchase', 'c', now - 2 * HOUR),
      event('view', 'unknown', now - HOUR),
    ];
    const steps = itemSteps(events, catalog());
    expect(steps.map((step) => [step.item, step.kind])).toEqual([
      [0, 'cart'],
      [2, 'purchase'],
    ]);
    const input = historyInput(steps, now);
    expect([...input.items]).toEqual([0, 2]);
    expect([...input.signals]).toEqual([signalRow('cart', 10 * DAY - 2), signalRow('purchase', 2 * HOUR)]);
  });

  it('builds next-item examples read as of each target, at most HISTORY_LENGTH steps back', () => {
    const steps = Array.from({ length: HISTORY_LENGTH + 5 }, (_, k) => ({
      item: k % 7,
      kind: 'view' as const,
      time: k * DAY,
    }));
    const profile = new Float32Array(10).fill(0.25);
    const examples = trainingExamples(steps, profile);
    expect(examples).toHaveLength(steps.length - 1);
    const last = examples.at(-1);
    expect(last?.target).toBe((steps.length - 1) % 7);
    expect(last?.history.items).toHaveLength(HISTORY_LENGTH);
    // The step just before the target happened a day before it.
    expect(last?.history.signals.at(-1)).toBe(signalRow('view', DAY));
    expect(last?.history.profile).toBe(profile);
  });
});

describe('model spec', () => {
  it('leaves only the personal tensors out of what a device shares', () => {
    const config = { items: 3, categories: 2, brands: 2, dim: 4 };
    const weights = initialWeights(config, 3);
    for (const tensor of Object.values(weights)) tensor.data.fill(1);
    const shared = sharedPart(weights, config);
    for (const spec of modelSpec(config)) {
      const expected = spec.global ? 1 : 0;
      expect((shared[spec.name]?.data ?? []).every((value) => value === expected)).toBe(true);
    }
    expect(
      modelSpec(config)
        .filter((spec) => !spec.global)
        .map((spec) => spec.name),
    ).toEqual(['personal_vector']);
  });

  it('grows the item rows of a model for items seen later, placed by side features and the mean bias', () => {
    const config = { items: 3, categories: 2, brands: 2, dim: 2 };
    const weights = initialWeights(config, 3);
    weights.item_bias = { shape: [3], data: Float32Array.from([1, 2, 6]) };
    const grown = withItemRows(weights, 5);
    expect(checkWeights(grown, { ...config, items: 5 })).toBeUndefined();
    expect([...(grown.item_embedding?.data.subarray(0, 6) ?? [])]).toEqual([...(weights.item_embedding?.data ?? [])]);
    expect([...(grown.item_embedding?.data.subarray(6) ?? [])]).toEqual([0, 0, 0, 0]);
    expect([...(grown.item_bias?.data ?? [])]).toEqual([1, 2, 6, 3, 3]);
    expect(grown.category_embedding).toBe(weights.category_embedding);
    const cut = withItemRows(grown, 3);
    expect(checkWeights(cut, config)).toBeUndefined();
    expect(cut.item_embedding?.data).toEqual(weights.item_embedding?.data);
    expect(cut.item_bias?.data).toEqual(weights.item_bias.data);
  });
});
