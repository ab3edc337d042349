import type { ItemInput, TrackedEvent, TrackInput } from '../../core/event.js';
import type { Visit } from './visit.js';

/** Where captured events go: the personalizer. */
export interface CaptureSink {
  track(event: TrackInput): TrackedEvent | undefined;
  /** Failures of capture, reported as the personalizer's `error` events; never thrown into the page. */
  reportError(error: unknown, context: string): void;
  /** Writes queued events now: the page may be going away. */
  flush?(): Promise<void>;
}

/** One switchable part of capture. Every hook runs guarded: a failure is reported, never thrown. */
export interface CapturePart {
  /** A visit begins: page load, SPA navigation, or a return from the back/forward cache. */
  enter?(visit: Visit): void;
  /** The page changed (debounced) or settled after a navigation. */
  scan?(visit: Visit): void;
  /** Record what is pending: the visit ends (`leaving`) or the tab was hidden and may never come back. */
  recordPending?(visit: Visit, leaving: boolean): void;
}

/** What the parts of capture share: the current visit, guarded tracking and listening, product views. */
export class CaptureContext {
  readonly #sink: CaptureSink;
  readonly #reported = new Set<string>();
  readonly #stops: Array<() => void> = [];
  readonly #productListeners: Array<(item: ItemInput, element?: Element) => void> = [];
  readonly #orders = new Set<string>();
  /**
   * Runs the current visit's first scan now if it has not run yet: an action right after a
   * navigation (a quick click on "add to cart") needs the product the new route is about.
   * Set by `startCapture`.
   */
  scanIfPending: () => void = () => undefined;

  constructor(
    sink: CaptureSink,
    public visit: Visit,
  ) {
    this.#sink = sink;
  }

  /** Tracks an event of the current visit, after its pending `page` event. Invalid events are reported. */
  track(event: TrackInput): TrackedEvent | undefined {
    if (event.type !== 'page') this.flushPage();
    try {
      return this.#sink.track(event);
    } catch (error) {
      this.report(error, `Capturing a ${event.type} event`);
      return undefined;
    }
  }

  /** Records the visit's `page` event if it is still waiting. */
  flushPage(): void {
    if (!this.visit.pagePending) return;
    this.visit.pagePending = false;
    const title = document.title.trim().slice(0, 500);
    this.track(title ? { type: 'page', title } : { type: 'page' });
  }

  /** A product view, once per product per visit, whatever its source (markup, JSON-LD, URL, dataLayer). */
  viewProduct(item: ItemInput, element?: Element): void {
    if (this.visit.products.has(item.id)) return;
    this.visit.products.set(item.id, item);
    this.track({ type: 'view', item });
    for (const listener of this.#productListeners) this.guard(listener, 'dwell')(item, element);
  }

  /** Listens to product views of the current visit. */
  onProductView(listener: (item: ItemInput, element?: Element) => void): void {
    this.#productListeners.push(listener);
  }

  /** A purchase, once per order for the page's lifetime; its id makes a repeat (a reloaded thank-you page) a duplicate in the log. */
  purchase(event: Extract<TrackInput, { type: 'purchase' }>): void {
    if (this.#orders.has(event.orderId)) return;
    this.#orders.add(event.orderId);
    this.track({ ...event, id: `purchase:${event.orderId}`.slice(0, 200) });
  }

  /** A search, once per query per visit, whatever its source (URL, form, dataLayer). */
  search(query: string, resultCount?: number): void {
    const key = query.toLowerCase();
    if (this.visit.searches.has(key)) return;
    this.visit.searches.add(key);
    this.track(resultCount === undefined ? { type: 'search', query } : { type: 'search', query, resultCount });
  }

  /** The product the current visit is about: the latest one viewed. */
  get product(): ItemInput | undefined {
    return [...this.visit.products.values()].at(-1);
  }

  /** Reports a capture failure once per message. */
  report(error: unknown, what: string): void {
    const message = `${what}: ${error instanceof Error ? error.message : String(error)}`;
    if (this.#reported.has(message) || this.#reported.size > 50) return;
    this.#reported.add(message);
    try {
      this.#sink.reportError(error, `${what} failed`);
    } catch {
      // Reporting must not throw into the page either.
    }
  }

  /** Wraps a callback so that it never throws into the page. */
  guard<A extends unknown[]>(callback: (...args: A) => void, what: string): (...args: A) => void {
    return (...args) => {
      try {
        callback(...args);
      } catch (error) {
        this.report(error, `Capture (${what})`);
      }
    };
  }

  /** A passive, guarded listener, removed by {@link stop}. */
  listen(target: EventTarget, type: string, listener: (event: Event) => void, what: string, capture = true): void {
    const guarded = this.guard(listener, what);
    target.addEventListener(type, guarded, { capture, passive: true });
    this.#stops.push(() => target.removeEventListener(type, guarded, { capture }));
  }

  /** Runs `stop` when capture stops. */
  onStop(stop: () => void): void {
    this.#stops.push(stop);
  }

  /** Asks the sink to write what it holds now: the page may be going away. */
  flush(): void {
    try {
      this.#sink.flush?.().catch((error: unknown) => this.report(error, 'Storing captured events'));
    } catch (error) {
      this.report(error, 'Storing captured events');
    }
  }

  /** Removes every listener and observer capture added, and restores what it wrapped. */
  stop(): void {
    for (const stop of this.#stops.splice(0)) this.guard(stop, 'stop')();
  }
}
