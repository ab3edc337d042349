/**
 * The markup a shop can add for capture. Every attribute is optional: JSON-LD, GA4's `dataLayer`
 * and configured URL patterns and selectors cover shops that add none of it.
 */

/** The product a page or view is about: item JSON, or an id with `data-omnipersona-name`, `-price`, …. */
export const ITEM_ATTRIBUTE = 'data-omnipersona-item';
/** A product card in a list or widget: clicks on it are recorded. Item JSON or an id. */
export const CARD_ATTRIBUTE = 'data-omnipersona-card';
/** A recommendation widget (its value is the kind); clicks inside it are attributed to it. */
export const WIDGET_ATTRIBUTE = 'data-omnipersona-recs';
/** A button that adds an item to the cart: item JSON, an id, or empty for the product on the page. */
export const ADD_TO_CART_ATTRIBUTE = 'data-omnipersona-add-to-cart';
/** A button that removes an item from the cart, read like {@link ADD_TO_CART_ATTRIBUTE}. */
export const REMOVE_FROM_CART_ATTRIBUTE = 'data-omnipersona-remove-from-cart';
/** The quantity a cart button adds or removes. @default 1 */
export const QUANTITY_ATTRIBUTE = 'data-omnipersona-quantity';
/** An order on a thank-you page: `{"orderId":"…","currency":"EUR","items":[{"id":"…","price":9,"quantity":2}]}`. */
export const PURCHASE_ATTRIBUTE = 'data-omnipersona-purchase';
