import type { ItemInput } from '../../core/event.js';
import { cleanItem, type RawItem } from './clean-item.js';

/**
 * Reads item metadata from markup: `data-omnipersona-item='{"id":"sku-1","name":"..."}'`, or a
 * bare id with optional `data-omnipersona-name`, `-category`, `-brand`, `-price` and `-currency`.
 * Text prices (`"89.00"`) are read; fields the schema would reject are dropped.
 */
export function readItemAttribute(element: Element, attribute: string): ItemInput | undefined {
  const raw = element.getAttribute(attribute)?.trim();
  if (!raw) return undefined;
  if (raw.startsWith('{')) {
    try {
      return cleanItem(JSON.parse(raw) as RawItem);
    } catch {
      return undefined;
    }
  }
  const read = (name: string) => element.getAttribute(`data-omnipersona-${name}`) ?? undefined;
  return cleanItem({
    id: raw,
    name: read('name'),
    category: read('category'),
    brand: read('brand'),
    price: read('price'),
    currency: read('currency'),
    url: element instanceof HTMLAnchorElement ? element.href : undefined,
  });
}
