import * as v from 'valibot';
import { isSelector, type SelectorRef } from './read-selector.js';
import { compileUrlPattern, type UrlMatch } from './url-pattern.js';

/**
 * A product URL: a pattern such as `/product/:id` (see {@link compileUrlPattern}), and where the
 * product's details are on such a page. Each field is a {@link SelectorRef}: `.price`, or
 * `meta[itemprop=sku]@content` for an attribute.
 */
export interface ProductUrlRule {
  /** `/product/:id`, `/p/:slug/*`, `/item.php?id=:id`. The `:id` part is the product id. */
  pattern: string;
  /** Where the id is, when the URL holds none (no `:id` in the pattern). */
  id?: SelectorRef;
  name?: SelectorRef;
  /** Text such as `"$1,299.00"` or `"1.299,00 €"` is read as a number. */
  price?: SelectorRef;
  category?: SelectorRef;
  brand?: SelectorRef;
  image?: SelectorRef;
  /** The ISO 4217 code of the prices on these pages: `"EUR"`. */
  currency?: string;
}

/** Page views: on load and on every SPA navigation. */
export interface PageCaptureOptions {
  /**
   * Count every change of the URL's `#hash` as a page. By default only route-like hashes
   * (`#/cart`, `#!/cart`) are pages and in-page anchors (`#reviews`) are not. @default false
   */
  hash?: boolean;
}

/** Product views: one per product per page (or SPA navigation). */
export interface ProductCaptureOptions {
  /** From schema.org Product JSON-LD. @default true */
  jsonLd?: boolean;
  /** From `data-omnipersona-item` elements. @default true */
  markup?: boolean;
  /** From pages whose URL matches {@link CaptureOptions.productUrls}. @default true */
  urls?: boolean;
}

/** Clicks on product cards and product links. */
export interface ClickCaptureOptions {
  /**
   * Named page regions, reported as a click's `source` when it is not in a recommendation widget:
   * `{ "search-results": "#results", "related": ".related-products" }`. Otherwise the source is `page`.
   */
  regions?: Record<string, string>;
}

/** Cart changes from `data-omnipersona-add-to-cart` / `-remove-from-cart` and configured selectors. */
export interface CartCaptureOptions {
  /** Buttons or forms that add the page's product (or the card's they sit in) to the cart. */
  addToCart?: string;
  /** Buttons or forms that remove an item from the cart. */
  removeFromCart?: string;
  /** The quantity field, looked up in the button's form first. @default '[name="quantity"]' */
  quantity?: SelectorRef;
}

/** Purchases from `data-omnipersona-purchase` and from a thank-you page's own markup. */
export interface PurchaseCaptureOptions {
  /** Where the order number is. Together with `lines`, turns on reading orders from selectors. */
  orderId?: SelectorRef;
  /** One element per order line. */
  lines?: string;
  /** Where each line's fields are, inside the line element. `id` is required. */
  line?: { id: SelectorRef; name?: SelectorRef; price?: SelectorRef; quantity?: SelectorRef };
  /** The ISO 4217 code of the order. */
  currency?: string;
}

/** GA4 ecommerce events from `window.dataLayer` (both `dataLayer.push({ event, ecommerce })` and `gtag()`). */
export interface DataLayerCaptureOptions {
  /** The data layer's global name. @default 'dataLayer' */
  name?: string;
}

/** Searches from the URL of search result pages and from search forms. */
export interface SearchCaptureOptions {
  /** URL parameters that carry the query. @default ['q', 'query', 'search'] */
  params?: string[];
  /** URL patterns of search pages; by default any page with one of `params`. */
  pages?: string[];
  /** Search fields whose form submission (or Enter) is a search. @default 'input[type="search"]' and inputs named after `params` */
  inputs?: string;
  /** Where the number of results is shown on a result page: `.results-count`. */
  resultCount?: SelectorRef;
}

/** Time a product was visible: in the viewport, in a visible tab. */
export interface DwellCaptureOptions {
  /** The element that shows the product, when it has no `data-omnipersona-item` (JSON-LD, URL rules); else the page counts. */
  element?: string;
  /** Share of the element (or of the viewport, for tall elements) that must be in view. @default 0.5 */
  visibleRatio?: number;
}

/**
 * What the SDK records on its own. Every part is on unless set to `false`; an object configures it.
 * A part whose configuration is malformed is reported once (`on('error')`, a console warning for the
 * script tag) and runs with its defaults.
 *
 * @example
 * ```ts
 * createPersonalizer({
 *   capture: {
 *     productUrls: [{ pattern: '/product/:id', name: 'h1', price: '.price', category: '.breadcrumb' }],
 *     search: { resultCount: '.results-count' },
 *     dwell: false,
 *   },
 * });
 * ```
 */
export interface CaptureOptions {
  /** Product pages and links without markup, recognised by URL: `"/product/:id"` or {@link ProductUrlRule}s. */
  productUrls?: Array<string | ProductUrlRule>;
  /** `page` events on load and SPA navigation (`pushState`, `replaceState`, back/forward, hash routes). */
  pages?: boolean | PageCaptureOptions;
  /** `view` events from JSON-LD, markup and product URLs. */
  products?: boolean | ProductCaptureOptions;
  /** `click` events on product cards and links, with the widget or region and the position. */
  clicks?: boolean | ClickCaptureOptions;
  /** `add_to_cart` and `remove_from_cart` events from buttons and forms. */
  cart?: boolean | CartCaptureOptions;
  /** `purchase` events from thank-you pages. */
  purchases?: boolean | PurchaseCaptureOptions;
  /** Events from GA4's `dataLayer`: `view_item`, `add_to_cart`, `remove_from_cart`, `purchase`, `search`. */
  dataLayer?: boolean | DataLayerCaptureOptions;
  /** `search` events from URLs and search forms. */
  search?: boolean | SearchCaptureOptions;
  /** `engagement` events: visible time per product. */
  dwell?: boolean | DwellCaptureOptions;
  /** Scroll depth, reported with `engagement` events. */
  scroll?: boolean;
}

/** The switchable parts of capture, as named in `data-capture` and `data-capture-exclude`. */
export const CAPTURE_PARTS = [
  'pages',
  'products',
  'clicks',
  'cart',
  'purchases',
  'dataLayer',
  'search',
  'dwell',
  'scroll',
] as const;
export type CapturePartName = (typeof CAPTURE_PARTS)[number];

/** A product URL rule, compiled. */
export interface ProductUrl extends ProductUrlRule {
  match(url: URL): UrlMatch | undefined;
}

/** Capture options with defaults filled in; a part that is off is `undefined`. */
export interface ResolvedCapture {
  productUrls: ProductUrl[];
  pages?: Required<PageCaptureOptions>;
  products?: Required<ProductCaptureOptions>;
  clicks?: Required<ClickCaptureOptions>;
  cart?: CartCaptureOptions & { quantity: SelectorRef };
  purchases?: PurchaseCaptureOptions;
  dataLayer?: Required<DataLayerCaptureOptions>;
  search?: Required<Omit<SearchCaptureOptions, 'pages' | 'resultCount'>> & {
    pages: ProductUrl['match'][];
    resultCount?: SelectorRef;
  };
  dwell?: DwellCaptureOptions & { visibleRatio: number };
  scroll?: true;
}

const Selector = v.pipe(v.string(), v.trim(), v.minLength(1), v.check(isSelector, 'a CSS selector'));
const Pattern = v.pipe(
  v.string(),
  v.check((pattern) => {
    try {
      compileUrlPattern(pattern);
      return true;
    } catch {
      return false;
    }
  }, 'a URL pattern such as /product/:id'),
);
const Currency = v.pipe(v.string(), v.regex(/^[A-Z]{3}$/u, 'an ISO 4217 code'));
const part = <T extends v.ObjectEntries>(entries: T) => v.union([v.boolean(), v.strictObject(entries)]);

const SCHEMAS = {
  productUrls: v.array(
    v.union([
      Pattern,
      v.strictObject({
        pattern: Pattern,
        id: v.optional(Selector),
        name: v.optional(Selector),
        price: v.optional(Selector),
        category: v.optional(Selector),
        brand: v.optional(Selector),
        image: v.optional(Selector),
        currency: v.optional(Currency),
      }),
    ]),
  ),
  pages: part({ hash: v.optional(v.boolean()) }),
  products: part({ jsonLd: v.optional(v.boolean()), markup: v.optional(v.boolean()), urls: v.optional(v.boolean()) }),
  clicks: part({ regions: v.optional(v.record(v.pipe(v.string(), v.minLength(1), v.maxLength(200)), Selector)) }),
  cart: part({ addToCart: v.optional(Selector), removeFromCart: v.optional(Selector), quantity: v.optional(Selector) }),
  purchases: part({
    orderId: v.optional(Selector),
    lines: v.optional(Selector),
    line: v.optional(
      v.strictObject({
        id: Selector,
        name: v.optional(Selector),
        price: v.optional(Selector),
        quantity: v.optional(Selector),
      }),
    ),
    currency: v.optional(Currency),
  }),
  dataLayer: part({ name: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z_$][\w$]*$/u, 'a global variable name'))) }),
  search: part({
    params: v.optional(v.array(v.pipe(v.string(), v.minLength(1)))),
    pages: v.optional(v.array(Pattern)),
    inputs: v.optional(Selector),
    resultCount: v.optional(Selector),
  }),
  dwell: part({
    element: v.optional(Selector),
    visibleRatio: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(1))),
  }),
  scroll: v.boolean(),
};

/**
 * Validates capture options part by part and fills in defaults. A malformed part is reported
 * through `report` and replaced by its default, so one typo never turns capture off.
 */
export function resolveCaptureOptions(input: unknown, report: (message: string) => void): ResolvedCapture {
  const given: Record<string, unknown> = {};
  if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
    for (const [key, value] of Object.entries(input)) {
      const schema = SCHEMAS[key as keyof typeof SCHEMAS];
      const result = schema ? v.safeParse(schema, value) : undefined;
      if (result?.success) given[key] = result.output;
      else if (value !== undefined) {
        const issue = result?.issues[0];
        report(
          schema
            ? `capture.${key}${issue && v.getDotPath(issue) ? `.${v.getDotPath(issue)}` : ''}: expected ${issue?.expected ?? issue?.message}, received ${issue?.received}; using its default`
            : `Unknown capture option "${key}"; expected one of ${Object.keys(SCHEMAS).join(', ')}`,
        );
      }
    }
  } else if (input !== undefined && input !== true) {
    report(`capture: expected true, false or an object, received ${typeof input}`);
  }
  const on = <T extends object>(name: CapturePartName, defaults: T): T | undefined => {
    const value = given[name] ?? true;
    return value === false ? undefined : { ...defaults, ...(value === true ? {} : (value as Partial<T>)) };
  };
  const search = on<SearchCaptureOptions>('search', {});
  const params = search?.params ?? ['q', 'query', 'search'];
  return {
    productUrls: ((given.productUrls ?? []) as Array<string | ProductUrlRule>).map((entry) => {
      const rule = typeof entry === 'string' ? { pattern: entry } : entry;
      return { ...rule, match: compileUrlPattern(rule.pattern) };
    }),
    pages: on('pages', { hash: false }),
    products: on('products', { jsonLd: true, markup: true, urls: true }),
    clicks: on('clicks', { regions: {} }),
    cart: on('cart', { quantity: '[name="quantity"]' }),
    purchases: on('purchases', {}),
    dataLayer: on('dataLayer', { name: 'dataLayer' }),
    search: search && {
      params,
      pages: (search.pages ?? []).map(compileUrlPattern),
      inputs:
        search.inputs ?? ['input[type="search"]', ...params.map((name) => `input[name="${CSS.escape(name)}"]`)].join(),
      ...(search.resultCount ? { resultCount: search.resultCount } : {}),
    },
    dwell: on('dwell', { visibleRatio: 0.5 }),
    scroll: given.scroll === false ? undefined : true,
  };
}
