import { eventItems, type TrackedEvent } from '../event.js';

/** What is in the shopper's cart after these events: added, not removed since, not bought since. */
export function cartOf(events: readonly TrackedEvent[]): Set<string> {
  const cart = new Set<string>();
  for (const event of events) {
    if (event.type === 'add_to_cart') cart.add(event.item.id);
    else if (event.type === 'remove_from_cart' || event.type === 'purchase') {
      for (const item of eventItems(event)) cart.delete(item.id);
    }
  }
  return cart;
}
