import { PURCHASE_ATTRIBUTE } from './attributes.js';
import type { CaptureContext, CapturePart } from './capture-context.js';
import type { PurchaseCaptureOptions } from './capture-options.js';
import { type RawOrder, readOrder } from './read-order.js';
import { readSelector } from './read-selector.js';

/**
 * `purchase` events from thank-you pages: a `data-omnipersona-purchase` element holding the order
 * as JSON, or the page's own markup through configured selectors (`orderId`, `lines`, `line.*`).
 * One event per order: a reloaded thank-you page stores the same event again, not a second one.
 */
export function capturePurchases(context: CaptureContext, options: PurchaseCaptureOptions): CapturePart {
  return {
    scan() {
      for (const element of document.querySelectorAll(`[${PURCHASE_ATTRIBUTE}]`)) {
        let raw: RawOrder;
        try {
          raw = JSON.parse(element.getAttribute(PURCHASE_ATTRIBUTE) ?? '') as RawOrder;
        } catch (error) {
          context.report(error, `Reading ${PURCHASE_ATTRIBUTE}`);
          continue;
        }
        const order = readOrder(raw ?? {});
        if (order) context.purchase(order);
        else
          context.report(
            new Error('expected an order id and at least one line with an id'),
            `Reading ${PURCHASE_ATTRIBUTE}`,
          );
      }
      const { orderId, lines, line, currency } = options;
      if (!orderId || !lines || !line) return;
      const id = readSelector(orderId);
      if (!id) return;
      const order = readOrder({
        orderId: id,
        currency,
        items: [...document.querySelectorAll(lines)].map((element) => ({
          id: readSelector(line.id, element),
          name: line.name && readSelector(line.name, element),
          price: line.price && readSelector(line.price, element),
          quantity: line.quantity && readSelector(line.quantity, element),
        })),
      });
      if (order) context.purchase(order);
    },
  };
}
