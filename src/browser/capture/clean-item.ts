import type { ItemInput } from '../../core/event.js';
import { parsePrice } from './parse-price.js';

/** Raw product fields as pages write them: strings for numbers, ids as numbers, extra keys. */
export interface RawItem {
  id?: unknown;
  name?: unknown;
  category?: unknown;
  brand?: unknown;
  price?: unknown;
  currency?: unknown;
  url?: unknown;
  image?: unknown;
  inStock?: unknown;
}

/**
 * Turns product data read from a page into an item the event schema accepts: trims and clips text
 * to the schema's limits, reads prices written as text, resolves URLs, and drops what cannot be
 * repaired — so one odd field on a storefront costs that field, not the event.
 * Returns `undefined` without a usable id.
 */
export function cleanItem(raw: RawItem | undefined): ItemInput | undefined {
  const id = text(raw?.id, 200);
  if (!raw || !id) return undefined;
  const item: ItemInput = { id };
  const name = text(raw.name, 500);
  if (name) item.name = name;
  const category = Array.isArray(raw.category)
    ? raw.category.map((part) => text(part, 200)).filter((part): part is string => part !== undefined)
    : text(raw.category, 500);
  if (category?.length) item.category = Array.isArray(category) ? category.slice(0, 10) : category;
  const brand = text(raw.brand, 200);
  if (brand) item.brand = brand;
  const price = typeof raw.price === 'number' ? raw.price : parsePrice(text(raw.price, 100));
  if (price !== undefined && Number.isFinite(price) && price >= 0 && price <= 1e9) item.price = price;
  const currency = text(raw.currency, 3)?.toUpperCase();
  if (currency && /^[A-Z]{3}$/u.test(currency)) item.currency = currency;
  const url = absolute(raw.url);
  if (url) item.url = url;
  const image = absolute(raw.image);
  if (image) item.image = image;
  if (typeof raw.inStock === 'boolean') item.inStock = raw.inStock;
  return item;
}

/** A string or number as trimmed, single-spaced text of at most `max` characters. */
export function text(value: unknown, max: number): string | undefined {
  if (typeof value !== 'string' && !(typeof value === 'number' && Number.isFinite(value))) return undefined;
  const clean = String(value).replace(/\s+/gu, ' ').trim().slice(0, max).trim();
  return clean || undefined;
}

function absolute(value: unknown): string | undefined {
  const raw = text(value, 2000);
  if (!raw) return undefined;
  try {
    const url = typeof location === 'undefined' ? raw : new URL(raw, location.href).href;
    return url.length <= 2000 ? url : undefined;
  } catch {
    return undefined;
  }
}
