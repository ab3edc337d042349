import type { ItemInput } from '../../core/event.js';
import { CARD_ATTRIBUTE, WIDGET_ATTRIBUTE } from './attributes.js';
import type { CaptureContext } from './capture-context.js';
import type { ClickCaptureOptions, ProductUrl } from './capture-options.js';
import { cleanItem } from './clean-item.js';
import { readItemAttribute } from './read-item-attribute.js';

/**
 * `click` events on product cards (`data-omnipersona-card`) and on links to product URLs, with
 * `source` — `recs:<kind>` inside a recommendation widget, else a configured region's name, else
 * `page` — and, inside a widget or region, the card's 1-based `position` among its products
 * (in `properties.position`). Middle clicks count: they open the product too.
 */
export function captureProductClicks(
  context: CaptureContext,
  options: Required<ClickCaptureOptions>,
  productUrls: readonly ProductUrl[],
): void {
  /** The product a card or link is about, if it is one. */
  const productOf = (element: Element): ItemInput | undefined => {
    if (element.hasAttribute(CARD_ATTRIBUTE)) return readItemAttribute(element, CARD_ATTRIBUTE);
    if (!(element instanceof HTMLAnchorElement) || !element.href) return undefined;
    const url = new URL(element.href);
    // Other sites, and links within this page (`#top`, `#reviews`), are not products.
    if (url.origin !== location.origin || (url.pathname === location.pathname && url.search === location.search)) {
      return undefined;
    }
    const id = productUrls.map((rule) => rule.match(url)?.id).find((value) => value !== undefined);
    return cleanItem({ id, url: url.href });
  };

  const onClick = (event: Event) => {
    if ((event as MouseEvent).button > 1) return;
    const target = event.composedPath().find((node): node is Element => node instanceof Element);
    const card = target?.closest(`[${CARD_ATTRIBUTE}]`) ?? target?.closest('a[href]');
    const item = card && productOf(card);
    if (!card || !item) return;
    const widget = card.closest(`[${WIDGET_ATTRIBUTE}]`);
    const [source, container] = widget
      ? [`recs:${widget.getAttribute(WIDGET_ATTRIBUTE)}`, widget]
      : (Object.entries(options.regions)
          .map(([name, selector]) => [name, card.closest(selector)] as const)
          .find(([, region]) => region) ?? ['page', null]);
    const event_: Parameters<CaptureContext['track']>[0] = { type: 'click', item, source };
    if (container) {
      // Distinct products in document order: a card's image and title links are one position.
      const ids = [
        ...new Set(
          [...container.querySelectorAll(`[${CARD_ATTRIBUTE}], a[href]`)].map((element) => productOf(element)?.id),
        ),
      ].filter((id) => id !== undefined);
      const position = ids.indexOf(item.id) + 1;
      if (position > 0) event_.properties = { position };
    }
    context.track(event_);
  };
  context.listen(document, 'click', onClick, 'click');
  context.listen(document, 'auxclick', onClick, 'click');
}
