import type { ItemInput } from './event.js';

/** A product as the recommender knows it. */
export interface CatalogItem {
  id: string;
  name?: string;
  /** Category path, most general first. Empty when unknown. */
  category: string[];
  brand?: string;
  price?: number;
  currency?: string;
  url?: string;
  image?: string;
  inStock?: boolean;
}

/** Normalises item metadata from any source (feed, page markup, `track()`) into a {@link CatalogItem}. */
export function toCatalogItem(item: ItemInput): CatalogItem {
  const category =
    typeof item.category === 'string'
      ? item.category.split(/\s*[>/|]\s*/u).filter((part) => part.length > 0)
      : (item.category ?? []);
  const { category: _ignored, ...rest } = item;
  return { ...rest, category };
}

/** Category index 0: items whose category is not known. */
export const UNKNOWN_CATEGORY = '(unknown)';

/** Brand index 0: items whose brand is not known. */
export const UNKNOWN_BRAND = '(unknown)';

/** Price bands per top-level category: quintiles, numbered from 1 (0 = price unknown). */
const PRICE_QUANTILES = 5;

/**
 * The item universe of one model: a stable order (the model's row index) plus lookups.
 * Items seen on pages extend it locally; the order of known items never changes.
 */
export class Catalog {
  readonly #items: CatalogItem[] = [];
  readonly #index = new Map<string, number>();
  readonly #categories = new Labels(UNKNOWN_CATEGORY);
  readonly #brands = new Labels(UNKNOWN_BRAND);

  constructor(items: Iterable<CatalogItem> = []) {
    for (const item of items) this.upsert(item);
  }

  get size(): number {
    return this.#items.length;
  }

  /** Top-level categories in order of first appearance, after {@link UNKNOWN_CATEGORY} at index 0. */
  get categories(): readonly string[] {
    return this.#categories.names;
  }

  /** Brands in order of first appearance, after {@link UNKNOWN_BRAND} at index 0. */
  get brands(): readonly string[] {
    return this.#brands.names;
  }

  get items(): readonly CatalogItem[] {
    return this.#items;
  }

  /** Adds an item or fills in metadata of a known one. Returns its row index. */
  upsert(item: CatalogItem): number {
    const known = this.#index.get(item.id);
    if (known !== undefined) {
      const current = this.#items[known] as CatalogItem;
      this.#items[known] = {
        ...current,
        ...Object.fromEntries(Object.entries(item).filter(([, value]) => value !== undefined)),
        category: item.category.length > 0 ? item.category : current.category,
      };
      this.#categoryOf(this.#items[known] as CatalogItem);
      this.#brandOf(this.#items[known] as CatalogItem);
      return known;
    }
    this.#categoryOf(item);
    this.#brandOf(item);
    this.#items.push(item);
    this.#index.set(item.id, this.#items.length - 1);
    return this.#items.length - 1;
  }

  /** Takes over the items and order of `other`, keeping this instance (others hold a reference to it). */
  replaceWith(other: Catalog): void {
    this.#items.length = 0;
    this.#index.clear();
    this.#categories.clear();
    this.#brands.clear();
    for (const item of other.items) this.upsert(item);
  }

  indexOf(id: string): number | undefined {
    return this.#index.get(id);
  }

  get(id: string): CatalogItem | undefined {
    const index = this.#index.get(id);
    return index === undefined ? undefined : this.#items[index];
  }

  at(index: number): CatalogItem | undefined {
    return this.#items[index];
  }

  /** Top-level category index of every item (0 = unknown): the side feature that keeps new items from being blank. */
  itemCategories(): Int32Array {
    return Int32Array.from(this.#items, (item) => this.#categoryOf(item));
  }

  /** Brand index of every item (0 = unknown). */
  itemBrands(): Int32Array {
    return Int32Array.from(this.#items, (item) => this.#brandOf(item));
  }

  /**
   * Price band of every item: where its price sits among the priced items of its top-level category,
   * in quintiles numbered 1 (cheapest fifth) to 5; 0 when the price is unknown.
   */
  itemPriceBands(): Int32Array {
    const prices = new Map<number, number[]>();
    const categories = this.itemCategories();
    this.#items.forEach((item, row) => {
      if (item.price === undefined || !Number.isFinite(item.price)) return;
      const category = categories[row] as number;
      const list = prices.get(category) ?? [];
      list.push(item.price);
      prices.set(category, list);
    });
    for (const list of prices.values()) list.sort((a, b) => a - b);
    return Int32Array.from(this.#items, (item, row) => {
      const list = prices.get(categories[row] as number);
      if (item.price === undefined || !list) return 0;
      // Items below this price, as a share of the category's priced items.
      const below = lowerBound(list, item.price);
      return 1 + Math.min(PRICE_QUANTILES - 1, Math.floor((below / list.length) * PRICE_QUANTILES));
    });
  }

  #brandOf(item: CatalogItem): number {
    return this.#brands.indexOf(item.brand?.trim());
  }

  #categoryOf(item: CatalogItem): number {
    return this.#categories.indexOf(item.category[0]);
  }
}

/** Names numbered in order of first appearance, after the "unknown" name at index 0. */
class Labels {
  readonly names: string[];
  readonly #index = new Map<string, number>();

  constructor(unknown: string) {
    this.names = [unknown];
  }

  /** The index of `name`, numbering it when new; 0 for a missing or empty name. */
  indexOf(name: string | undefined): number {
    if (!name) return 0;
    let index = this.#index.get(name);
    if (index === undefined) {
      index = this.names.length;
      this.names.push(name);
      this.#index.set(name, index);
    }
    return index;
  }

  clear(): void {
    this.names.length = 1;
    this.#index.clear();
  }
}

/** The first position in sorted `values` whose value is not below `value`. */
function lowerBound(values: readonly number[], value: number): number {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((values[middle] as number) < value) low = middle + 1;
    else high = middle;
  }
  return low;
}
