import type { ItemInput } from '../../core/event.js';
import {
  ADD_TO_CART_ATTRIBUTE,
  CARD_ATTRIBUTE,
  ITEM_ATTRIBUTE,
  QUANTITY_ATTRIBUTE,
  REMOVE_FROM_CART_ATTRIBUTE,
} from './attributes.js';
import type { CaptureContext } from './capture-context.js';
import type { ResolvedCapture } from './capture-options.js';
import { readItemAttribute } from './read-item-attribute.js';
import { readSelector } from './read-selector.js';

type Action = 'add_to_cart' | 'remove_from_cart';

/**
 * `add_to_cart` and `remove_from_cart` events from clicks on `data-omnipersona-add-to-cart` /
 * `-remove-from-cart` buttons and on configured buttons, and from submissions of configured forms.
 * The item is the attribute's (JSON or an id); without one, the card or product element the button
 * sits in, else the product the page is about. The quantity is `data-omnipersona-quantity`, else the
 * quantity field of the button's form (or of the page), else 1.
 */
export function captureCartChanges(context: CaptureContext, options: NonNullable<ResolvedCapture['cart']>): void {
  const selectors: Record<Action, string> = {
    add_to_cart: [`[${ADD_TO_CART_ATTRIBUTE}]`, options.addToCart].filter(Boolean).join(),
    remove_from_cart: [`[${REMOVE_FROM_CART_ATTRIBUTE}]`, options.removeFromCart].filter(Boolean).join(),
  };
  const attributes: Record<Action, string> = {
    add_to_cart: ADD_TO_CART_ATTRIBUTE,
    remove_from_cart: REMOVE_FROM_CART_ATTRIBUTE,
  };
  // A configured button inside a configured form is one action: its click, not the submission after it.
  let lastForm: { form: HTMLFormElement; at: number } | undefined;

  const record = (type: Action, element: Element) => {
    const item = itemFor(element, attributes[type]);
    if (!item) {
      context.report(
        new Error(`no product found for the ${type} button ${describeElement(element)}`),
        'Capturing a cart change',
      );
      return;
    }
    const form = element instanceof HTMLFormElement ? element : element.closest('form');
    if (form && !(element instanceof HTMLFormElement)) lastForm = { form, at: performance.now() };
    const quantity = Number(
      element.getAttribute(QUANTITY_ATTRIBUTE) ?? readSelector(options.quantity, form ?? document) ?? 1,
    );
    context.track(
      Number.isInteger(quantity) && quantity >= 1 && quantity <= 10_000 ? { type, item, quantity } : { type, item },
    );
  };

  const itemFor = (element: Element, attribute: string): ItemInput | undefined => {
    const own = element.closest(`[${attribute}]`);
    if (own?.getAttribute(attribute)?.trim()) return readItemAttribute(own, attribute);
    const holder = element.closest(`[${ITEM_ATTRIBUTE}], [${CARD_ATTRIBUTE}]`);
    if (holder) return readItemAttribute(holder, holder.hasAttribute(ITEM_ATTRIBUTE) ? ITEM_ATTRIBUTE : CARD_ATTRIBUTE);
    // The product the page is about, also when product views are not captured.
    context.scanIfPending();
    const page = context.product ? undefined : document.querySelector(`[${ITEM_ATTRIBUTE}]`);
    return context.product ?? (page ? readItemAttribute(page, ITEM_ATTRIBUTE) : undefined);
  };

  context.listen(
    document,
    'click',
    (event) => {
      const target = event.composedPath().find((node): node is Element => node instanceof Element);
      for (const type of ['add_to_cart', 'remove_from_cart'] as const) {
        const button = target?.closest(selectors[type]);
        if (button && !(button instanceof HTMLFormElement)) return record(type, button);
      }
    },
    'cart click',
  );
  context.listen(
    document,
    'submit',
    (event) => {
      const form = event.target;
      if (!(form instanceof HTMLFormElement)) return;
      if (lastForm?.form === form && performance.now() - lastForm.at < 1000) return;
      for (const type of ['add_to_cart', 'remove_from_cart'] as const) {
        if (form.matches(selectors[type])) return record(type, form);
      }
    },
    'cart submit',
  );
}

function describeElement(element: Element): string {
  return `<${element.localName}${element.id ? ` id="${element.id}"` : ''}${element.className && typeof element.className === 'string' ? ` class="${element.className}"` : ''}>`;
}
