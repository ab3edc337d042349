import type { Catalog } from '../catalog.js';
import { type Channel, type EventType, eventItems, type TrackedEvent } from '../event.js';
import { EVENT_WEIGHTS } from './history.js';

/** What the device has learned about the shopper, readable by them through `profile()`. */
export interface Profile {
  events: number;
  counts: Partial<Record<EventType, number>>;
  firstSeen?: number;
  lastSeen?: number;
  /** Top-level categories by share of weighted interest, strongest first; shares sum to 1. */
  categories: Array<{ category: string; share: number }>;
  brands: Array<{ brand: string; share: number }>;
  channels: Partial<Record<Channel, number>>;
  /** Total spent per currency. */
  spent: Record<string, number>;
}

/** Builds the profile from the event log. Pure: the same log gives the same profile on every channel. */
export function computeProfile(events: readonly TrackedEvent[], catalog: Catalog): Profile {
  const counts: Partial<Record<EventType, number>> = {};
  const categories = new Map<string, number>();
  const brands = new Map<string, number>();
  const channels: Partial<Record<Channel, number>> = {};
  const spent: Record<string, number> = {};
  let firstSeen: number | undefined;
  let lastSeen: number | undefined;
  for (const event of events) {
    counts[event.type] = (counts[event.type] ?? 0) + 1;
    channels[event.channel] = (channels[event.channel] ?? 0) + 1;
    firstSeen = Math.min(firstSeen ?? event.time, event.time);
    lastSeen = Math.max(lastSeen ?? event.time, event.time);
    const weight = EVENT_WEIGHTS[event.type];
    for (const input of eventItems(event)) {
      const item = catalog.get(input.id);
      const top = item?.category[0];
      if (top !== undefined) categories.set(top, (categories.get(top) ?? 0) + weight);
      if (item?.brand !== undefined) brands.set(item.brand, (brands.get(item.brand) ?? 0) + weight);
    }
    if (event.type === 'purchase') {
      for (const line of event.items) {
        const currency = line.item.currency ?? event.currency ?? 'XXX';
        const price = line.price ?? line.item.price ?? 0;
        spent[currency] = (spent[currency] ?? 0) + price * line.quantity;
      }
    }
  }
  const profile: Profile = {
    events: events.length,
    counts,
    categories: shares(categories).map(([category, share]) => ({ category, share })),
    brands: shares(brands).map(([brand, share]) => ({ brand, share })),
    channels,
    spent,
  };
  if (firstSeen !== undefined) profile.firstSeen = firstSeen;
  if (lastSeen !== undefined) profile.lastSeen = lastSeen;
  return profile;
}

function shares(weights: Map<string, number>): Array<[string, number]> {
  const total = [...weights.values()].reduce((sum, weight) => sum + weight, 0);
  if (total === 0) return [];
  return [...weights.entries()]
    .map(([key, weight]): [string, number] => [key, weight / total])
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}
