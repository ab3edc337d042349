import type { ItemInput } from '../../core/event.js';
import type { CaptureContext, CapturePart } from './capture-context.js';
import { cleanItem, text } from './clean-item.js';
import { readOrder } from './read-order.js';

type Params = Record<string, unknown>;
type Layer = unknown[] & { push: (...items: unknown[]) => number };

/**
 * Events from a GA4 `dataLayer`: `view_item`, `add_to_cart`, `remove_from_cart`, `purchase` and
 * `search`, pushed as `dataLayer.push({ event, ecommerce })` or by `gtag('event', name, params)`
 * (an `arguments` object). Entries already in the layer are read once; later ones as they are
 * pushed, through a wrapper around `push` that calls whatever `push` was before it (Google Tag
 * Manager's own, or the array's) and returns its result. GTM wraps `push` when it loads, after or
 * before us; either way both run. A layer created or replaced later is picked up at the next scan.
 */
export function captureDataLayer(context: CaptureContext, name: string): CapturePart {
  const handled = new WeakSet<object>();
  let wrapped: Layer | undefined;
  let wrapper: Layer['push'] | undefined;

  const handle = (entry: unknown) => {
    if (typeof entry !== 'object' || entry === null || handled.has(entry)) return;
    handled.add(entry);
    const gtag = entry as ArrayLike<unknown>;
    if (gtag[0] === 'event' && typeof gtag[1] === 'string') record(context, gtag[1], (gtag[2] ?? {}) as Params);
    else if (typeof (entry as Params).event === 'string') {
      const pushed = entry as Params;
      const ecommerce = typeof pushed.ecommerce === 'object' && pushed.ecommerce !== null ? pushed.ecommerce : {};
      record(context, pushed.event as string, { ...pushed, ...ecommerce });
    }
  };

  const attach = () => {
    const layer = (window as unknown as Record<string, unknown>)[name];
    if (!Array.isArray(layer)) return;
    for (const entry of layer) context.guard(handle, 'dataLayer')(entry);
    if (layer === wrapped && layer.push === wrapper) return;
    const previous = layer.push;
    const guarded = context.guard(handle, 'dataLayer');
    wrapper = function (this: unknown, ...items: unknown[]) {
      try {
        return previous.apply(this, items);
      } finally {
        for (const item of items) guarded(item);
      }
    };
    wrapped = layer as Layer;
    layer.push = wrapper;
  };

  context.onStop(() => {
    if (wrapped && wrapper && wrapped.push === wrapper) delete (wrapped as Partial<Layer>).push;
  });
  return { enter: attach, scan: attach };
}

function record(context: CaptureContext, event: string, params: Params): void {
  const currency = params.currency;
  const items = (Array.isArray(params.items) ? params.items : []).filter(
    (entry): entry is Params => typeof entry === 'object' && entry !== null,
  );
  const item = (entry: Params): ItemInput | undefined =>
    cleanItem({
      id: entry.item_id ?? entry.id,
      name: entry.item_name ?? entry.name,
      brand: entry.item_brand ?? entry.brand,
      category: [
        entry.item_category,
        entry.item_category2,
        entry.item_category3,
        entry.item_category4,
        entry.item_category5,
      ]
        .map((part) => text(part, 200))
        .filter((part) => part !== undefined),
      price: entry.price,
      currency: entry.currency ?? currency,
    });
  switch (event) {
    case 'view_item':
      for (const entry of items) {
        const viewed = item(entry);
        if (viewed) context.viewProduct(viewed);
      }
      return;
    case 'add_to_cart':
    case 'remove_from_cart':
      for (const entry of items) {
        const changed = item(entry);
        const quantity = Number(entry.quantity ?? 1);
        if (!changed) continue;
        context.track(
          Number.isInteger(quantity) && quantity >= 1 && quantity <= 10_000
            ? { type: event, item: changed, quantity }
            : { type: event, item: changed },
        );
      }
      return;
    case 'purchase': {
      const order = readOrder({
        orderId: params.transaction_id,
        currency,
        items: items.map((entry) => ({ item: item(entry), quantity: entry.quantity, price: entry.price })),
      });
      if (order) context.purchase(order);
      return;
    }
    case 'search': {
      const query = text(params.search_term, 500);
      if (query) context.search(query);
    }
  }
}
