import type { ItemInput } from '../../core/event.js';
import { ITEM_ATTRIBUTE } from './attributes.js';
import type { CaptureContext, CapturePart } from './capture-context.js';
import type { ProductCaptureOptions, ProductUrl } from './capture-options.js';
import { cleanItem } from './clean-item.js';
import { readItemAttribute } from './read-item-attribute.js';
import { readJsonLdProducts } from './read-json-ld-products.js';
import { readSelector } from './read-selector.js';
import type { ScanScheduler } from './scan-scheduler.js';
import type { Visit } from './visit.js';

/** How long a product URL's page may take to render its name before the view is recorded without it. */
const URL_PRODUCT_WAIT_MS = 3000;

/**
 * `view` events, one per product per visit, from schema.org JSON-LD, `data-omnipersona-item`
 * elements and product URL rules. Markup counts when it is new or changed, or unchanged on the page
 * where it first appeared (back to a product): a JSON-LD block a single-page app leaves behind is
 * not a view on every later route. A product URL yields a view only when the page's markup names
 * no product (markup ids are the better ids).
 */
export function captureProductViews(
  context: CaptureContext,
  options: Required<ProductCaptureOptions>,
  productUrls: readonly ProductUrl[],
  scheduler: ScanScheduler,
): CapturePart {
  // What each product element said, on which page it first said it, and when it was last read.
  const seen = new WeakMap<Element, { content: string; key: string; visit: Visit }>();
  const isNew = (element: Element, content: string, visit: Visit) => {
    const last = seen.get(element);
    if (last?.content === content && (last.visit === visit || last.key !== visit.key)) return false;
    seen.set(element, { content, key: last?.content === content ? last.key : visit.key, visit });
    return true;
  };

  const parsed = new WeakMap<Element, { content: string; data: unknown }>();
  const fromJsonLd = (found: Map<string, ItemInput>, visit: Visit) => {
    const blocks = [...document.querySelectorAll('script[type="application/ld+json"]')].map((script) => {
      const content = script.textContent ?? '';
      let entry = parsed.get(script);
      if (entry?.content !== content) {
        entry = { content, data: parseJson(content) };
        parsed.set(script, entry);
      }
      return { data: entry.data, fresh: isNew(script, content, visit) };
    });
    const fresh = blocks.filter((block) => block.fresh).map((block) => block.data);
    if (fresh.length === 0) return;
    for (const item of readJsonLdProducts(
      fresh,
      blocks.map((block) => block.data),
    ))
      found.set(item.id, item);
  };

  const fromUrl = (visit: Visit) => {
    const rule = productUrls.find((entry) => entry.match(visit.url));
    if (!rule || visit.done.has('url-product')) return;
    const id = rule.match(visit.url)?.id ?? (rule.id ? readSelector(rule.id) : undefined);
    if ((!id || (rule.name && !readSelector(rule.name))) && visit.age < URL_PRODUCT_WAIT_MS) {
      scheduler.after(URL_PRODUCT_WAIT_MS - visit.age);
      return;
    }
    visit.done.add('url-product');
    const read = (ref: string | undefined) => (ref ? readSelector(ref) : undefined);
    const item = cleanItem({
      id,
      name: read(rule.name),
      price: read(rule.price),
      category: read(rule.category),
      brand: read(rule.brand),
      image: read(rule.image),
      currency: rule.currency,
      url: location.href,
    });
    if (item && visit.products.size === 0) context.viewProduct(item);
  };

  return {
    scan(visit) {
      const found = new Map<string, ItemInput>();
      const elements = new Map<string, Element>();
      if (options.jsonLd) fromJsonLd(found, visit);
      if (options.markup) {
        for (const element of document.querySelectorAll(`[${ITEM_ATTRIBUTE}]`)) {
          if (!isNew(element, element.getAttribute(ITEM_ATTRIBUTE) ?? '', visit)) continue;
          const item = readItemAttribute(element, ITEM_ATTRIBUTE);
          if (!item) continue;
          // The markup's own fields win; JSON-LD fills the gaps.
          found.set(item.id, { ...found.get(item.id), ...item });
          elements.set(item.id, element);
        }
      }
      for (const item of found.values()) context.viewProduct(item, elements.get(item.id));
      if (options.urls && productUrls.length > 0) fromUrl(visit);
    },
  };
}

/** A shop's broken JSON-LD is its own business, not an SDK error: it reads as nothing. */
function parseJson(content: string): unknown {
  try {
    return JSON.parse(content);
  } catch {
    return undefined;
  }
}
