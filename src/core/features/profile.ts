import type { Catalog, CatalogItem } from '../catalog.js';
import { type Channel, type EventType, eventItems, type TrackedEvent } from '../event.js';
import { EVENT_WEIGHTS } from './history.js';

const DAY = 86_400_000;

/**
 * What the device has learned about the shopper, readable (and deletable) by them through `profile()`.
 * Every score is in [0, 1] so that the same numbers feed the model ({@link profileFeatures}).
 */
export interface Profile {
  events: number;
  counts: Partial<Record<EventType, number>>;
  firstSeen?: number;
  lastSeen?: number;
  /** Sessions and days with activity. */
  activity: { sessions: number; activeDays: number; eventsPerSession: number };
  /** Days since the last event and the last purchase, as of `now`. */
  recency: { days?: number; purchaseDays?: number };
  /** Orders and product interactions per active day. */
  frequency: { orders: number; interactionsPerDay: number };
  /** Total spent and average order value, per currency. */
  monetary: { spent: Record<string, number>; averageOrder: Record<string, number> };
  /** Where the prices the shopper engages with sit within their categories: 0 cheapest, 1 dearest. */
  spendingPower?: number;
  /** Share of engaged items priced below their category's median: high means price-sensitive. */
  priceSensitivity?: number;
  /** How close the shopper is to buying: views → cart → purchase funnel, recent activity counting more. */
  purchasePropensity: number;
  /** Top-level categories by share of weighted interest, strongest first; shares sum to 1. */
  categories: Array<{ category: string; share: number }>;
  brands: Array<{ brand: string; share: number }>;
  /** Share of events per channel. */
  channels: Partial<Record<Channel, number>>;
}

/** Builds the profile from the event log. Pure: the same log gives the same profile on every channel. */
export function computeProfile(events: readonly TrackedEvent[], catalog: Catalog, now = latest(events)): Profile {
  const counts: Partial<Record<EventType, number>> = {};
  const categories = new Map<string, number>();
  const brands = new Map<string, number>();
  const channels = new Map<Channel, number>();
  const spent: Record<string, number> = {};
  const orders = new Map<string, string>();
  const sessions = new Set<string>();
  const days = new Set<number>();
  const pricePositions: number[] = [];
  let below = 0;
  let priced = 0;
  let firstSeen: number | undefined;
  let lastSeen: number | undefined;
  let lastPurchase: number | undefined;
  const medians = categoryPriceQuantiles(catalog);

  for (const event of events) {
    counts[event.type] = (counts[event.type] ?? 0) + 1;
    channels.set(event.channel, (channels.get(event.channel) ?? 0) + 1);
    sessions.add(event.sessionId);
    days.add(Math.floor(event.time / DAY));
    firstSeen = Math.min(firstSeen ?? event.time, event.time);
    lastSeen = Math.max(lastSeen ?? event.time, event.time);
    const weight = EVENT_WEIGHTS[event.type];
    for (const input of eventItems(event)) {
      const item = catalog.get(input.id);
      if (!item || weight === 0) continue;
      const top = item.category[0];
      if (top !== undefined) categories.set(top, (categories.get(top) ?? 0) + weight);
      if (item.brand !== undefined) brands.set(item.brand, (brands.get(item.brand) ?? 0) + weight);
      const position = pricePosition(item, medians);
      if (position !== undefined) {
        pricePositions.push(position);
        priced++;
        if (position < 0.5) below++;
      }
    }
    if (event.type === 'purchase') {
      lastPurchase = Math.max(lastPurchase ?? event.time, event.time);
      for (const line of event.items) {
        const currency = line.item.currency ?? event.currency ?? 'XXX';
        const price = line.price ?? line.item.price ?? 0;
        spent[currency] = (spent[currency] ?? 0) + price * line.quantity;
        orders.set(event.orderId, currency);
      }
    }
  }

  const orderCounts = new Map<string, number>();
  for (const currency of orders.values()) orderCounts.set(currency, (orderCounts.get(currency) ?? 0) + 1);
  const averageOrder = Object.fromEntries(
    Object.entries(spent).map(([currency, total]) => [currency, total / (orderCounts.get(currency) ?? 1)]),
  );
  const interactions = (counts.view ?? 0) + (counts.click ?? 0) + (counts.add_to_cart ?? 0) + (counts.purchase ?? 0);
  const profile: Profile = {
    events: events.length,
    counts,
    activity: {
      sessions: sessions.size,
      activeDays: days.size,
      eventsPerSession: sessions.size === 0 ? 0 : events.length / sessions.size,
    },
    recency: {},
    frequency: { orders: orders.size, interactionsPerDay: days.size === 0 ? 0 : interactions / days.size },
    monetary: { spent, averageOrder },
    purchasePropensity: propensity(events, now),
    categories: shares(categories).map(([category, share]) => ({ category, share })),
    brands: shares(brands).map(([brand, share]) => ({ brand, share })),
    channels: Object.fromEntries(shares(channels)),
  };
  if (firstSeen !== undefined) profile.firstSeen = firstSeen;
  if (lastSeen !== undefined) {
    profile.lastSeen = lastSeen;
    profile.recency.days = Math.max(0, (now - lastSeen) / DAY);
  }
  if (lastPurchase !== undefined) profile.recency.purchaseDays = Math.max(0, (now - lastPurchase) / DAY);
  if (pricePositions.length > 0) {
    profile.spendingPower = pricePositions.reduce((sum, value) => sum + value, 0) / pricePositions.length;
    profile.priceSensitivity = below / priced;
  }
  return profile;
}

/** Names of the values {@link profileFeatures} returns, in order. */
export const PROFILE_FEATURES = [
  'activity',
  'recency',
  'frequency',
  'monetary',
  'spending_power',
  'price_sensitivity',
  'purchase_propensity',
  'category_focus',
  'brand_focus',
  'multichannel',
] as const;

/** The profile as a fixed-length model input: every value in [0, 1], 0.5 where unknown. */
export function profileFeatures(profile: Profile): Float32Array {
  const squash = (value: number, scale: number) => 1 - Math.exp(-Math.max(0, value) / scale);
  const totalSpent = Object.values(profile.monetary.spent).reduce((sum, value) => sum + value, 0);
  const concentration = (entries: Array<{ share: number }>) =>
    entries.reduce((sum, entry) => sum + entry.share ** 2, 0);
  const channelShares = Object.values(profile.channels) as number[];
  return Float32Array.from([
    squash(profile.events, 50),
    profile.recency.days === undefined ? 0 : Math.exp(-profile.recency.days / 14),
    squash(profile.frequency.interactionsPerDay, 10),
    squash(totalSpent, 200),
    profile.spendingPower ?? 0.5,
    profile.priceSensitivity ?? 0.5,
    profile.purchasePropensity,
    concentration(profile.categories),
    concentration(profile.brands),
    channelShares.length <= 1 ? 0 : 1 - Math.max(...channelShares),
  ]);
}

/**
 * A funnel score: purchases count most, carts next, then views and clicks, each decaying with a
 * 7-day half-life, mapped to [0, 1). Zero for a shopper who has done nothing.
 */
function propensity(events: readonly TrackedEvent[], now: number): number {
  const stage: Partial<Record<EventType, number>> = {
    view: 0.2,
    click: 0.2,
    add_to_cart: 1.5,
    purchase: 3,
    remove_from_cart: -0.5,
  };
  let score = 0;
  for (const event of events) {
    const weight = stage[event.type];
    if (weight !== undefined) score += weight * 0.5 ** (Math.max(0, now - event.time) / (7 * DAY));
  }
  return 1 - Math.exp(-Math.max(0, score) / 3);
}

/** Price quartiles per top-level category, from the catalog. */
function categoryPriceQuantiles(catalog: Catalog): Map<string, number[]> {
  const prices = new Map<string, number[]>();
  for (const item of catalog.items) {
    const top = item.category[0];
    if (top === undefined || item.price === undefined) continue;
    const list = prices.get(top) ?? [];
    list.push(item.price);
    prices.set(top, list);
  }
  for (const list of prices.values()) list.sort((a, b) => a - b);
  return prices;
}

/** The item's price rank within its category, in [0, 1]; undefined without a price or peers. */
function pricePosition(item: CatalogItem, prices: Map<string, number[]>): number | undefined {
  const peers = item.category[0] === undefined ? undefined : prices.get(item.category[0]);
  if (item.price === undefined || !peers || peers.length < 2) return undefined;
  let lower = 0;
  let equal = 0;
  for (const price of peers) {
    if (price < item.price) lower++;
    else if (price === item.price) equal++;
  }
  return (lower + Math.max(0, equal - 1) / 2) / (peers.length - 1);
}

function latest(events: readonly TrackedEvent[]): number {
  return events.reduce((max, event) => Math.max(max, event.time), 0);
}

function shares<Key extends string>(weights: Map<Key, number>): Array<[Key, number]> {
  const total = [...weights.values()].reduce((sum, weight) => sum + weight, 0);
  if (total === 0) return [];
  return [...weights.entries()]
    .map(([key, weight]): [Key, number] => [key, weight / total])
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}
