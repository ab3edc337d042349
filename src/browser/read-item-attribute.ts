import type { ItemInput } from '../core/event.js';

/**
 * Reads item metadata from markup: `data-omnipersona-item='{"id":"sku-1","name":"..."}'`, or a
 * bare id with optional `data-omnipersona-name`, `-category`, `-brand`, `-price` and `-currency`.
 */
export function readItemAttribute(element: Element, attribute: string): ItemInput | undefined {
  const raw = element.getAttribute(attribute)?.trim();
  if (!raw) return undefined;
  if (raw.startsWith('{')) {
    try {
      return JSON.parse(raw) as ItemInput;
    } catch {
      return undefined;
    }
  }
  const item: ItemInput = { id: raw };
  const read = (name: string) => element.getAttribute(`data-omnipersona-${name}`) ?? undefined;
  const name = read('name');
  const category = read('category');
  const brand = read('brand');
  const price = read('price');
  const currency = read('currency');
  if (name !== undefined) item.name = name;
  if (category !== undefined) item.category = category;
  if (brand !== undefined) item.brand = brand;
  if (price !== undefined && Number.isFinite(Number(price))) item.price = Number(price);
  if (currency !== undefined) item.currency = currency;
  return item;
}
