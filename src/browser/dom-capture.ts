import type { TrackInput } from '../core/event.js';
import { readItemAttribute } from './read-item-attribute.js';

/** Which parts of the page the SDK records on its own. */
export interface CaptureOptions {
  /** A product view when an element marked `data-omnipersona-item` appears. @default true */
  productViews?: boolean;
  /** A click when a product card (`data-omnipersona-card`) is clicked. @default true */
  clicks?: boolean;
}

/** Attribute marking the product a page or view is about. */
export const ITEM_ATTRIBUTE = 'data-omnipersona-item';
/** Attribute marking a product card in a list or widget. */
export const CARD_ATTRIBUTE = 'data-omnipersona-card';
/** Attribute marking a recommendation widget; clicks inside it are attributed to it. */
export const WIDGET_ATTRIBUTE = 'data-omnipersona-recs';

/**
 * Records product views and card clicks from markup, including views that appear later (SPA
 * navigation). Returns a function that stops capturing. Never throws into the page.
 */
export function startDomCapture(track: (event: TrackInput) => void, options: CaptureOptions = {}): () => void {
  const seen = new WeakSet<Element>();
  const stops: Array<() => void> = [];

  if (options.productViews !== false) {
    const scan = () => {
      for (const element of document.querySelectorAll(`[${ITEM_ATTRIBUTE}]`)) {
        if (seen.has(element)) continue;
        seen.add(element);
        const item = readItemAttribute(element, ITEM_ATTRIBUTE);
        if (item) track({ type: 'view', item });
      }
    };
    scan();
    const observer = new MutationObserver(scan);
    observer.observe(document.documentElement, {
      childList: true,
      subtree: true,
      attributes: true,
      attributeFilter: [ITEM_ATTRIBUTE],
    });
    stops.push(() => observer.disconnect());
  }

  if (options.clicks !== false) {
    const onClick = (event: Event) => {
      const card = event.target instanceof Element ? event.target.closest(`[${CARD_ATTRIBUTE}]`) : null;
      if (!card) return;
      const item = readItemAttribute(card, CARD_ATTRIBUTE);
      const widget = card.closest(`[${WIDGET_ATTRIBUTE}]`)?.getAttribute(WIDGET_ATTRIBUTE);
      if (item) track({ type: 'click', item, source: widget ? `recs:${widget}` : 'page' });
    };
    document.addEventListener('click', onClick, { capture: true, passive: true });
    stops.push(() => document.removeEventListener('click', onClick, { capture: true }));
  }

  return () => {
    for (const stop of stops) stop();
  };
}
