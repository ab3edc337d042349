import type { ItemInput } from '../../core/event.js';
import { cleanItem, text } from './clean-item.js';

type Node = Record<string, unknown>;

const PRODUCT_TYPES = new Set(['Product', 'ProductGroup', 'ProductModel', 'IndividualProduct', 'SomeProducts']);
const ID_KEYS = ['sku', 'productID', 'productGroupID', 'mpn', 'gtin', 'gtin13', 'gtin12', 'gtin14', 'gtin8'];

/**
 * The products a page says it is about, from the parsed contents of its
 * `<script type="application/ld+json">` blocks: top-level and `@graph` Products, a page's
 * `mainEntity`, and an Offer's `itemOffered` (references by `@id` are followed). Products merely
 * listed (an `ItemList` of related items) are not the page's subject and are skipped. A product
 * without a category takes it from the page's `BreadcrumbList`. `related` are the page's other blocks,
 * read for references and breadcrumbs only.
 */
export function readJsonLdProducts(blocks: readonly unknown[], related: readonly unknown[] = blocks): ItemInput[] {
  const nodes = (from: readonly unknown[]) =>
    from.flatMap(list).flatMap((node) => (Array.isArray(node['@graph']) ? node['@graph'].filter(isNode) : [node]));
  const top = nodes(blocks);
  const context = nodes(related);
  const byId = new Map(
    context.flatMap((node) => (typeof node['@id'] === 'string' ? [[node['@id'], node] as const] : [])),
  );
  const resolve = (value: unknown) => {
    const node = first(value);
    return isNode(node) && typeof node['@id'] === 'string' ? (byId.get(node['@id']) ?? node) : node;
  };
  const breadcrumb = context.find((node) => types(node).includes('BreadcrumbList'));
  const products = new Map<string, ItemInput>();
  const visit = (value: unknown, offer?: Node): void => {
    const node = resolve(value);
    if (!isNode(node)) return;
    const kinds = types(node);
    if (kinds.some((kind) => PRODUCT_TYPES.has(kind))) {
      const item = product(node, offer, breadcrumb);
      if (item && !products.has(item.id)) products.set(item.id, item);
    } else if (kinds.some((kind) => kind.endsWith('Offer')) && node.itemOffered) {
      visit(node.itemOffered, node);
    } else if (node.mainEntity && kinds.some((kind) => kind.endsWith('Page'))) {
      visit(node.mainEntity);
    }
  };
  for (const node of top) visit(node);
  return [...products.values()];
}

function product(node: Node, offer: Node | undefined, breadcrumb: Node | undefined): ItemInput | undefined {
  const offers = list(offer ?? node.offers);
  const priced = offers.find((entry) => price(entry) !== undefined) ?? offers[0];
  const spec =
    priced && isNode(first(priced.priceSpecification)) ? (first(priced.priceSpecification) as Node) : undefined;
  const availability = String(priced?.availability ?? '');
  const id =
    ID_KEYS.map((key) => node[key]).find((value) => text(value, 200)) ?? priced?.sku ?? node['@id'] ?? node.url;
  return cleanItem({
    id,
    name: node.name,
    brand: nameOf(node.brand) ?? nameOf(node.manufacturer),
    category: nameOf(node.category) ?? crumbs(breadcrumb, node.name),
    price: priced ? (price(priced) ?? (spec ? price(spec) : undefined)) : undefined,
    currency: priced?.priceCurrency ?? spec?.priceCurrency,
    url: node.url,
    image: nameOf(node.image, 'url') ?? nameOf(node.image, 'contentUrl'),
    inStock: /InStock|LimitedAvailability|OnlineOnly|InStoreOnly/u.test(availability)
      ? true
      : /OutOfStock|SoldOut|Discontinued/u.test(availability)
        ? false
        : undefined,
  });
}

/** Category path from a BreadcrumbList, without "Home" and without the product itself. */
function crumbs(breadcrumb: Node | undefined, productName: unknown): string[] | undefined {
  const names = list(breadcrumb?.itemListElement)
    .sort((a, b) => Number(a.position) - Number(b.position))
    .map((entry) => nameOf(entry) ?? nameOf(entry.item))
    .filter((name): name is string => name !== undefined);
  if (names.length > 0 && /^home$/iu.test(names[0] ?? '')) names.shift();
  if (names.at(-1) === text(productName, 500)) names.pop();
  return names.length > 0 ? names : undefined;
}

function price(offer: Node): unknown {
  return offer.price ?? offer.lowPrice;
}

/** A text value, or the `name` (or another key) of a node, of the first of a list. */
function nameOf(value: unknown, key = 'name'): string | undefined {
  const entry = first(value);
  return text(isNode(entry) ? entry[key] : entry, 500);
}

function types(node: Node): string[] {
  return (Array.isArray(node['@type']) ? node['@type'] : [node['@type']]).map((type) =>
    String(type).replace(/^.*[/#:]/u, ''),
  );
}

function list(value: unknown): Node[] {
  return (Array.isArray(value) ? value : [value]).filter(isNode);
}

function first(value: unknown): unknown {
  return Array.isArray(value) ? value[0] : value;
}

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
