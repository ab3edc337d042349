import type { parseTrackInput } from '../event.js';

type ParsedEvent = ReturnType<typeof parseTrackInput>;

/** Bounds beyond which a well-formed event is still not believable. Defaults live in `options.ts`. */
export interface SanityRules {
  /** Latest accepted event time, ahead of the device clock (clock skew), in ms. */
  maxFutureMs: number;
  /** Oldest accepted event time, behind the device clock, in ms: older events would be evicted at once. */
  maxAgeMs: number;
  /** Highest believable unit price of an item or order line. */
  maxPrice: number;
  /** Highest believable quantity of one cart or order line. */
  maxQuantity: number;
}

/**
 * Why an event that passed the schema is not believable, or undefined when it is. The schema
 * already rejects what is impossible in any shop (negative prices, fractional quantities); these
 * rules reject what is impossible for this one, with bounds the shop can move.
 */
export function findAnomaly(
  event: ParsedEvent & { time: number },
  now: number,
  rules: SanityRules,
): string | undefined {
  if (event.time > now + rules.maxFutureMs) {
    return `time ${event.time} is ${formatMs(event.time - now)} ahead of the device clock (at most ${formatMs(rules.maxFutureMs)})`;
  }
  if (event.time < now - rules.maxAgeMs) {
    return `time ${event.time} is ${formatMs(now - event.time)} old, past the retention window of ${formatMs(rules.maxAgeMs)}`;
  }
  for (const { price, where } of prices(event)) {
    if (price > rules.maxPrice) return `${where} ${price} is above the highest believable price ${rules.maxPrice}`;
  }
  for (const { quantity, where } of quantities(event)) {
    if (quantity > rules.maxQuantity) {
      return `${where} ${quantity} is above the highest believable quantity ${rules.maxQuantity}`;
    }
  }
  return undefined;
}

function prices(event: ParsedEvent): Array<{ price: number; where: string }> {
  const found: Array<{ price: number; where: string }> = [];
  const item = 'item' in event ? event.item : undefined;
  if (item?.price !== undefined) found.push({ price: item.price, where: 'item.price' });
  if (event.type === 'purchase') {
    event.items.forEach((line, i) => {
      if (line.price !== undefined) found.push({ price: line.price, where: `items.${i}.price` });
      if (line.item.price !== undefined) found.push({ price: line.item.price, where: `items.${i}.item.price` });
    });
  }
  return found;
}

function quantities(event: ParsedEvent): Array<{ quantity: number; where: string }> {
  if ((event.type === 'add_to_cart' || event.type === 'remove_from_cart') && event.quantity !== undefined) {
    return [{ quantity: event.quantity, where: 'quantity' }];
  }
  if (event.type === 'purchase')
    return event.items.map((line, i) => ({ quantity: line.quantity, where: `items.${i}.quantity` }));
  return [];
}

function formatMs(ms: number): string {
  if (ms >= 86_400_000) return `${Math.round(ms / 86_400_000)} d`;
  if (ms >= 3_600_000) return `${Math.round(ms / 3_600_000)} h`;
  if (ms >= 60_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 1000)} s`;
}
