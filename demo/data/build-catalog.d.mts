/** A product of the demo catalog. */
export interface DemoItem {
  id: string;
  name: string;
  category: [string, string];
  brand: string;
  price: number;
  currency: 'USD';
  url: string;
  image: string;
  inStock: boolean;
}
export const DEPARTMENTS: ReadonlyArray<{
  name: string;
  brands: string[];
  subcategories: Array<{ name: string; nouns: string[]; price: [number, number]; with: string[] }>;
}>;
export function buildCatalog(seed?: number): DemoItem[];
export function complements(): Map<string, string[]>;
