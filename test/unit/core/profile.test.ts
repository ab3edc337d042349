import { describe, expect, it } from 'vitest';
import { Catalog, toCatalogItem } from '../../../src/core/catalog.js';
import type { TrackedEvent } from '../../../src/core/event.js';
import { computeProfile, PROFILE_FEATURES, profileFeatures } from '../../../src/core/features/profile.js';

const DAY = 86_400_000;
const catalog = new Catalog(
  [
    { id: 'cheap-shoe', category: 'Shoes', brand: 'Stride', price: 40 },
    { id: 'mid-shoe', category: 'Shoes', brand: 'Stride', price: 90 },
    { id: 'dear-shoe', category: 'Shoes', brand: 'Apex', price: 200 },
    { id: 'cheap-mug', category: 'Kitchen', brand: 'Hearth', price: 8 },
    { id: 'dear-mug', category: 'Kitchen', brand: 'Hearth', price: 30 },
  ].map(toCatalogItem),
);

let counter = 0;
function event(partial: Record<string, unknown>, time: number, channel = 'web', sessionId = 's1'): TrackedEvent {
  return { id: `e${++counter}`, time, channel, sessionId, anonymousId: 'a', ...partial } as TrackedEvent;
}
const item = (id: string) => ({ id });

describe('profile', () => {
  const start = 1_700_000_000_000;
  const log: TrackedEvent[] = [
    event({ type: 'view', item: item('dear-shoe') }, start),
    event({ type: 'view', item: item('mid-shoe') }, start + 1000),
    event({ type: 'add_to_cart', item: item('dear-shoe') }, start + 2000),
    event(
      {
        type: 'purchase',
        orderId: 'o1',
        items: [{ item: { id: 'dear-shoe', currency: 'USD' }, quantity: 1, price: 200 }],
      },
      start + 3000,
    ),
    event({ type: 'view', item: item('cheap-mug') }, start + 2 * DAY, 'app', 's2'),
  ];

  it('reads activity, recency, frequency and money from the log', () => {
    const profile = computeProfile(log, catalog, start + 3 * DAY);
    expect(profile.events).toBe(5);
    expect(profile.activity).toEqual({ sessions: 2, activeDays: 2, eventsPerSession: 2.5 });
    expect(profile.recency.days).toBeCloseTo(1, 5);
    expect(profile.recency.purchaseDays).toBeCloseTo(3, 3);
    expect(profile.frequency.orders).toBe(1);
    expect(profile.monetary.spent).toEqual({ USD: 200 });
    expect(profile.monetary.averageOrder).toEqual({ USD: 200 });
    expect(profile.channels).toEqual({ web: 0.8, app: 0.2 });
  });

  it('ranks category and brand affinity by weighted interest', () => {
    const profile = computeProfile(log, catalog);
    expect(profile.categories.map((entry) => entry.category)).toEqual(['Shoes', 'Kitchen']);
    expect(profile.categories.reduce((sum, entry) => sum + entry.share, 0)).toBeCloseTo(1, 6);
    expect(profile.brands[0]?.brand).toBe('Apex');
  });

  it('tells a shopper of dear items from a bargain hunter', () => {
    const dear = computeProfile(log.slice(0, 4), catalog);
    const bargains = computeProfile(
      [
        event({ type: 'view', item: item('cheap-shoe') }, start),
        event({ type: 'view', item: item('cheap-mug') }, start),
      ],
      catalog,
    );
    expect(dear.spendingPower).toBeGreaterThan(0.7);
    expect(bargains.spendingPower).toBe(0);
    expect(bargains.priceSensitivity).toBe(1);
    expect(dear.priceSensitivity).toBe(0);
  });

  it('raises purchase propensity along the funnel and lets it fade', () => {
    const browsing = computeProfile(log.slice(0, 2), catalog, start);
    const carting = computeProfile(log.slice(0, 3), catalog, start);
    const later = computeProfile(log.slice(0, 3), catalog, start + 60 * DAY);
    expect(browsing.purchasePropensity).toBeGreaterThan(0);
    expect(carting.purchasePropensity).toBeGreaterThan(browsing.purchasePropensity);
    expect(later.purchasePropensity).toBeLessThan(carting.purchasePropensity / 10);
    expect(computeProfile([], catalog).purchasePropensity).toBe(0);
  });

  it('normalises the profile into a fixed-length model input in [0, 1]', () => {
    const features = profileFeatures(computeProfile(log, catalog));
    expect(features).toHaveLength(PROFILE_FEATURES.length);
    for (const value of features) {
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThanOrEqual(1);
    }
    const empty = profileFeatures(computeProfile([], catalog));
    expect(empty[PROFILE_FEATURES.indexOf('spending_power')]).toBe(0.5);
    expect(features[PROFILE_FEATURES.indexOf('multichannel')]).toBeCloseTo(0.2, 5);
  });
});
