import type { TrackInput } from '../../core/event.js';
import { cleanItem, type RawItem, text } from './clean-item.js';
import { parsePrice } from './parse-price.js';

/** A purchase as pages write it: our field names, or GA4's (`transaction_id`). */
export interface RawOrder {
  orderId?: unknown;
  transaction_id?: unknown;
  id?: unknown;
  currency?: unknown;
  /** Lines as `{ item: {...}, quantity, price }`, or flat items `{ id, name, price, quantity }`. */
  items?: unknown;
}

type Purchase = Extract<TrackInput, { type: 'purchase' }>;

/**
 * A `purchase` event from order data read on a page. Lines without a usable item are dropped; an
 * order without an id or without lines is `undefined`. Quantities default to 1, and the line's
 * price is the unit price.
 */
export function readOrder(raw: RawOrder): Purchase | undefined {
  const orderId = text(raw.orderId ?? raw.transaction_id ?? raw.id, 200);
  const currency = text(raw.currency, 3)?.toUpperCase();
  const items = (Array.isArray(raw.items) ? raw.items : []).flatMap((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) return [];
    const line = entry as { item?: unknown; quantity?: unknown; price?: unknown };
    const nested = typeof line.item === 'object' && line.item !== null;
    const item = cleanItem({ ...(currency ? { currency } : {}), ...((nested ? line.item : line) as RawItem) });
    if (!item) return [];
    const quantity = Math.round(
      typeof line.quantity === 'number' ? line.quantity : Number(parsePrice(text(line.quantity, 20))),
    );
    const price = typeof line.price === 'number' ? line.price : (parsePrice(text(line.price, 100)) ?? item.price);
    return [
      {
        item,
        quantity: quantity >= 1 && quantity <= 10_000 ? quantity : 1,
        ...(price !== undefined && price >= 0 && price <= 1e9 ? { price } : {}),
      },
    ];
  });
  if (!orderId || items.length === 0) return undefined;
  return {
    type: 'purchase',
    orderId,
    items: items.slice(0, 500),
    ...(currency && /^[A-Z]{3}$/u.test(currency) ? { currency } : {}),
  };
}
