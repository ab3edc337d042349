/**
 * A place on the page to read a value from: a CSS selector (`.price`), optionally with an attribute
 * (`meta[property="product:price:amount"]@content`, `.sku@data-sku`), or `@attr` alone for an
 * attribute of the element searched from. Without an attribute it reads a form field's value,
 * a `<meta>`'s `content`, or else the element's text.
 */
export type SelectorRef = string;

const ATTRIBUTE = /@([\w:-]+)$/u;

/** Reads a {@link SelectorRef} under `root`. `undefined` when nothing matches or the value is empty. */
export function readSelector(ref: SelectorRef, root: ParentNode = document): string | undefined {
  const attribute = ATTRIBUTE.exec(ref)?.[1];
  const selector = attribute ? ref.slice(0, -attribute.length - 1).trim() : ref;
  const element = selector ? root.querySelector(selector) : root instanceof Element ? root : null;
  if (!element) return undefined;
  const value = attribute
    ? element.getAttribute(attribute)
    : element instanceof HTMLInputElement ||
        element instanceof HTMLSelectElement ||
        element instanceof HTMLTextAreaElement
      ? element.value
      : element instanceof HTMLMetaElement
        ? element.content
        : element.textContent;
  return value?.trim() || undefined;
}

/** Whether a selector (or the selector part of a {@link SelectorRef}) parses; checked once, at start. */
export function isSelector(ref: string): boolean {
  const selector = ref.replace(ATTRIBUTE, '').trim();
  if (!selector) return ref.startsWith('@');
  try {
    document.createDocumentFragment().querySelector(selector);
    return true;
  } catch {
    return false;
  }
}
