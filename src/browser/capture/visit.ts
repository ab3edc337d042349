import type { ItemInput } from '../../core/event.js';

/** One page as the shopper sees it: a page load, or a route of a single-page app. */
export class Visit {
  readonly startedAt = performance.now();
  /** Products viewed on this visit, by id: one view each. */
  readonly products = new Map<string, ItemInput>();
  /** Queries searched on this visit: one search event each. */
  readonly searches = new Set<string>();
  /** One-off steps done on this visit (`'url-product'`, `'url-search'`). */
  readonly done = new Set<string>();
  /** Whether the page has been scanned during this visit. */
  scanned = false;
  /** The `page` event waits for the route to render, for its title. */
  pagePending = false;

  constructor(
    readonly url: URL,
    /** The URL as far as it tells pages apart (no in-page anchors). */
    readonly key: string,
  ) {}

  /** Milliseconds since the visit began. */
  get age(): number {
    return performance.now() - this.startedAt;
  }
}
