import type { CatalogItem } from '../core/catalog.js';
import { OmniPersonaError } from '../core/errors.js';
import type { Personalizer } from '../core/personalizer/personalizer.js';
import type { Recommendation, RecommendationKind, RecommendRequest } from '../core/recommend-request.js';
import { CARD_ATTRIBUTE, WIDGET_ATTRIBUTE } from './capture/index.js';

const KINDS: readonly RecommendationKind[] = ['for-you', 'similar', 'bought-together', 'trending', 'recently-viewed'];

const TITLES: Record<RecommendationKind, string> = {
  'for-you': 'Recommended for you',
  similar: 'Similar items',
  'bought-together': 'Often bought together',
  trending: 'Trending now',
  'recently-viewed': 'Recently viewed',
};

/**
 * Fills every `<div data-omnipersona-recs="for-you" data-count="8">` on the page with a list of
 * recommendations, and refreshes them when the model learns. The request's options are attributes:
 * `data-item`, `data-category`, `data-min-price`, `data-max-price`, `data-in-stock`, `data-exclude`
 * (ids), `data-exclude-viewed`, `data-exclude-in-cart`, `data-max-per-category`, `data-max-impressions`
 * and `data-boost` (JSON: `{"categories": {"Coffee": 2}}`). What a widget shows counts as shown. The markup is plain, accessible and
 * classed (`omnipersona-recs`, `omnipersona-rec`, ...) so the shop can style it, or the shop's own: a
 * `<template>` inside the widget, or one elsewhere named by `data-template="#id"`, holds one card
 * (see {@link TemplateField}). A malformed template is reported through `onError` and the widget shows
 * the default markup.
 * Returns a function that stops refreshing.
 */
export function startWidgets(personalizer: Personalizer, onError: (error: unknown) => void): () => void {
  let pending = false;
  const refresh = () => {
    if (pending) return;
    pending = true;
    queueMicrotask(() => {
      pending = false;
      for (const element of document.querySelectorAll<HTMLElement>(`[${WIDGET_ATTRIBUTE}]`)) {
        fill(personalizer, element).catch(onError);
      }
    });
  };
  const known = new WeakSet<Element>();
  const reported = new WeakMap<Element, Set<string>>();
  // A refresh meets the same broken template again: each problem is reported once per widget.
  const templateProblems = new WeakMap<Element, string>();
  const observer = new MutationObserver(() => {
    const fresh = [...document.querySelectorAll(`[${WIDGET_ATTRIBUTE}]`)].some((element) => !known.has(element));
    if (fresh) refresh();
  });
  observer.observe(document.documentElement, { childList: true, subtree: true });
  const stopListening = personalizer.on('changed', refresh);
  const stopTracking = personalizer.on('tracked', (event) => {
    if (event.type === 'view' || event.type === 'purchase' || event.type === 'add_to_cart') refresh();
  });
  refresh();

  async function fill(op: Personalizer, element: HTMLElement): Promise<void> {
    known.add(element);
    const request = readRequest(element);
    if (!request) return;
    const { template, problem } = findTemplate(element);
    if (problem === undefined) templateProblems.delete(element);
    else if (templateProblems.get(element) !== problem) {
      templateProblems.set(element, problem);
      onError(new OmniPersonaError('INVALID_OPTIONS', problem));
    }
    element.setAttribute('aria-busy', 'true');
    try {
      const recommendations = await op.recommend(request);
      render(element, request.kind, recommendations, template);
      // A refresh shows the same items again on the same page: each counts once per widget and page.
      const counted = reported.get(element) ?? new Set<string>();
      reported.set(element, counted);
      const fresh = recommendations.map((pick) => pick.item.id).filter((id) => !counted.has(id));
      for (const id of fresh) counted.add(id);
      if (fresh.length > 0) await op.shown(fresh);
    } finally {
      element.removeAttribute('aria-busy');
    }
  }

  return () => {
    observer.disconnect();
    stopListening();
    stopTracking();
  };
}

function readRequest(element: HTMLElement): RecommendRequest | undefined {
  const kind = element.getAttribute(WIDGET_ATTRIBUTE) as RecommendationKind;
  if (!KINDS.includes(kind)) return undefined;
  const request: RecommendRequest = { kind };
  const data = element.dataset;
  if (data.count) request.count = Number(data.count);
  if (data.item) request.item = data.item;
  if (data.category) request.category = data.category;
  if (data.minPrice) request.minPrice = Number(data.minPrice);
  if (data.maxPrice) request.maxPrice = Number(data.maxPrice);
  if (data.inStock !== undefined) request.inStock = data.inStock !== 'false';
  if (data.exclude) request.exclude = data.exclude.split(/[\s,]+/u).filter(Boolean);
  if (data.excludeViewed !== undefined) request.excludeViewed = data.excludeViewed !== 'false';
  if (data.excludeInCart !== undefined) request.excludeInCart = data.excludeInCart !== 'false';
  if (data.maxPerCategory) request.maxPerCategory = Number(data.maxPerCategory);
  if (data.maxImpressions) request.maxImpressions = Number(data.maxImpressions);
  // `recommend()` validates the values; a boost that is not JSON fails that check with its text.
  if (data.boost) request.boost = parseJson(data.boost) as RecommendRequest['boost'];
  return request;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * The fields a card template marks with `data-omnipersona-field="<field>"`; each is filled as text,
 * never as markup, since item metadata comes from pages and feeds. An element whose field the item
 * lacks (a brand, a category, a price) is removed.
 */
type TemplateField = 'id' | 'name' | 'price' | 'reason' | 'brand' | 'category';

const FIELD_ATTRIBUTE = 'data-omnipersona-field';
/** On a link in a card template: its `href` becomes the item's URL (removed when it has none). */
const HREF_ATTRIBUTE = 'data-omnipersona-href';
/** On an image in a card template: its `src` becomes the item's image (the element is removed when it has none). */
const SRC_ATTRIBUTE = 'data-omnipersona-src';

const FIELDS: Record<TemplateField, (pick: Recommendation) => string | undefined> = {
  id: ({ item }) => item.id,
  name: ({ item }) => item.name ?? item.id,
  price: ({ item }) => formatPrice(item),
  reason: ({ reason }) => reason,
  brand: ({ item }) => item.brand,
  category: ({ item }) => (item.category.length > 0 ? item.category.join(' > ') : undefined),
};

/**
 * The widget's card template: the one `data-template` selects, else its own `<template>` child.
 * A problem is a sentence for the shop; the widget then shows the default markup.
 */
function findTemplate(element: HTMLElement): { template?: HTMLTemplateElement; problem?: string } {
  const reference = element.dataset.template;
  const kind = element.getAttribute(WIDGET_ATTRIBUTE);
  const where = `widget ${element.id ? `#${element.id} ` : ''}(${WIDGET_ATTRIBUTE}="${kind}")`;
  const invalid = (detail: string) => ({
    problem: `Invalid widget template at ${where}: ${detail}; showing the default markup`,
  });
  let template = element.querySelector<HTMLTemplateElement>(':scope > template');
  if (reference !== undefined) {
    let selected: Element | null;
    try {
      selected = document.querySelector(reference);
    } catch {
      return invalid(`data-template="${reference}" is not a selector, expected one like "#card"`);
    }
    if (!(selected instanceof HTMLTemplateElement)) {
      const received = selected ? `a <${selected.localName}>` : 'no element';
      return invalid(`data-template="${reference}" selects ${received}, expected a <template>`);
    }
    template = selected;
  }
  if (!template) return {};
  if (!template.content.firstElementChild) return invalid('the <template> holds no element, expected one card');
  for (const node of template.content.querySelectorAll(`[${FIELD_ATTRIBUTE}]`)) {
    const field = node.getAttribute(FIELD_ATTRIBUTE) ?? '';
    if (!Object.hasOwn(FIELDS, field)) {
      const expected = Object.keys(FIELDS).join(', ');
      return invalid(`${FIELD_ATTRIBUTE}="${field}" is not a field, expected one of ${expected}`);
    }
  }
  return { template };
}

function render(
  element: HTMLElement,
  kind: RecommendationKind,
  recommendations: Recommendation[],
  template: HTMLTemplateElement | undefined,
): void {
  const title = element.dataset.title ?? TITLES[kind];
  const list = document.createElement('ul');
  list.className = 'omnipersona-recs';
  list.setAttribute('aria-label', title);
  for (const pick of recommendations) {
    const entry = template ? fromTemplate(template, pick) : defaultCard(pick);
    entry.classList.add('omnipersona-rec');
    entry.dataset.score = pick.score.toFixed(4);
    list.append(entry);
  }
  // The widget's own template stays for the next refresh.
  element.replaceChildren(...element.querySelectorAll(':scope > template'), list);
  element.dataset.omnipersonaState = 'ready';
}

function defaultCard({ item, reason }: Recommendation): HTMLLIElement {
  const entry = document.createElement('li');
  const url = safeUrl(item.url);
  const link = document.createElement(url ? 'a' : 'div');
  if (url && link instanceof HTMLAnchorElement) link.href = url;
  link.setAttribute(CARD_ATTRIBUTE, item.id);
  if (item.image) {
    const image = document.createElement('img');
    image.src = item.image;
    image.alt = '';
    image.loading = 'lazy';
    link.append(image);
  }
  link.append(span('omnipersona-rec-name', item.name ?? item.id));
  const price = formatPrice(item);
  if (price !== undefined) link.append(span('omnipersona-rec-price', price));
  link.append(span('omnipersona-rec-reason', reason));
  entry.append(link);
  return entry;
}

/**
 * One card from the shop's template, in an `<li>` (the template's own root when it is one). The
 * entry is the card that click capture attributes to the widget, with its position.
 */
function fromTemplate(template: HTMLTemplateElement, pick: Recommendation): HTMLLIElement {
  const card = document.importNode(template.content, true);
  const { item } = pick;
  for (const node of card.querySelectorAll(`[${FIELD_ATTRIBUTE}]`)) {
    const value = FIELDS[node.getAttribute(FIELD_ATTRIBUTE) as TemplateField](pick);
    if (value === undefined) node.remove();
    else node.textContent = value;
  }
  const url = safeUrl(item.url);
  for (const node of card.querySelectorAll(`[${HREF_ATTRIBUTE}]`)) {
    if (url) node.setAttribute('href', url);
    else node.removeAttribute('href');
  }
  for (const node of card.querySelectorAll(`[${SRC_ATTRIBUTE}]`)) {
    if (!item.image) {
      node.remove();
      continue;
    }
    node.setAttribute('src', item.image);
    // The card's text names the product: without an alt of the shop's, the image is decoration.
    if (!node.hasAttribute('alt')) node.setAttribute('alt', '');
  }
  const root = card.firstElementChild;
  const entry = root instanceof HTMLLIElement && card.childElementCount === 1 ? root : document.createElement('li');
  if (entry !== root) entry.append(card);
  entry.setAttribute(CARD_ATTRIBUTE, item.id);
  return entry;
}

/** A URL a link may point at: http(s) only, so an item's `javascript:` URL never runs in the page. */
function safeUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const { protocol } = new URL(url, location.href);
    return protocol === 'http:' || protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

function formatPrice(item: CatalogItem): string | undefined {
  if (item.price === undefined) return undefined;
  return new Intl.NumberFormat(undefined, { style: 'currency', currency: item.currency ?? 'USD' }).format(item.price);
}

function span(className: string, text: string): HTMLSpanElement {
  const element = document.createElement('span');
  element.className = className;
  element.textContent = text;
  return element;
}
