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
 * classed (`omnipersona-recs`, `omnipersona-rec`, ...) so the shop can style it.
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
    element.setAttribute('aria-busy', 'true');
    try {
      const recommendations = await op.recommend(request);
      render(element, request.kind, recommendations);
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

function render(element: HTMLElement, kind: RecommendationKind, recommendations: Recommendation[]): void {
  const title = element.dataset.title ?? TITLES[kind];
  const list = document.createElement('ul');
  list.className = 'omnipersona-recs';
  list.setAttribute('aria-label', title);
  for (const { item, reason, score } of recommendations) {
    const entry = document.createElement('li');
    entry.className = 'omnipersona-rec';
    entry.dataset.score = score.toFixed(4);
    const link = document.createElement(item.url ? 'a' : 'div');
    if (item.url && link instanceof HTMLAnchorElement) link.href = item.url;
    link.setAttribute(CARD_ATTRIBUTE, item.id);
    if (item.image) {
      const image = document.createElement('img');
      image.src = item.image;
      image.alt = '';
      image.loading = 'lazy';
      link.append(image);
    }
    link.append(span('omnipersona-rec-name', item.name ?? item.id));
    if (item.price !== undefined) {
      const price = new Intl.NumberFormat(undefined, { style: 'currency', currency: item.currency ?? 'USD' });
      link.append(span('omnipersona-rec-price', price.format(item.price)));
    }
    link.append(span('omnipersona-rec-reason', reason));
    entry.append(link);
    list.append(entry);
  }
  element.replaceChildren(list);
  element.dataset.omnipersonaState = 'ready';
}

function span(className: string, text: string): HTMLSpanElement {
  const element = document.createElement('span');
  element.className = className;
  element.textContent = text;
  return element;
}
