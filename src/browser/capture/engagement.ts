import type { ItemInput, TrackInput } from '../../core/event.js';
import type { CaptureContext, CapturePart } from './capture-context.js';
import type { ResolvedCapture } from './capture-options.js';

/** Visible time of one product (or of the page, without an element). */
interface Dwell {
  item?: ItemInput;
  element?: Element;
  inView: boolean;
  totalMs: number;
  /** When the current visible stretch began; undefined while hidden. */
  since?: number;
  /** Visible time and scroll depth already reported. */
  reportedMs: number;
  reportedDepth: number;
}

const THRESHOLDS = Array.from({ length: 21 }, (_, step) => step / 20);
const DAY_MS = 86_400_000;

/**
 * `engagement` events: per product viewed on a visit, the time it was visible — its element in the
 * viewport (IntersectionObserver) while the tab is visible, or the tab's visible time for a product
 * without an element — and the page's scroll depth (the largest share of the page seen, read in
 * animation frames from passive scroll listeners). A visit without a product reports the page.
 * Reported when the visit ends and when the tab is hidden (it may never come back); a report carries
 * the time since the previous report of that product on that visit, so a product's dwell is the sum
 * of its events' `dwellMs`, and its scroll depth their largest `scrollDepth`.
 */
export function captureEngagement(
  context: CaptureContext,
  dwell: ResolvedCapture['dwell'],
  scroll: boolean,
): CapturePart {
  let documentVisible = document.visibilityState === 'visible';
  let products: Dwell[] = [];
  let page: Dwell = { inView: true, totalMs: 0, reportedMs: 0, reportedDepth: 0 };
  let depth = 0;
  let frame = 0;
  let scroller: EventTarget | null = null;

  const update = (entry: Dwell, now = performance.now()) => {
    if (entry.since !== undefined) entry.totalMs += now - entry.since;
    entry.since = documentVisible && entry.inView ? now : undefined;
  };
  const all = () => [page, ...products];

  const ratio = dwell?.visibleRatio ?? 0.5;
  const observer =
    dwell &&
    new IntersectionObserver(
      context.guard((entries: IntersectionObserverEntry[]) => {
        for (const entry of entries) {
          const dwelling = products.find((candidate) => candidate.element === entry.target);
          if (!dwelling) continue;
          // Tall elements count when they fill the share of the viewport instead.
          dwelling.inView =
            entry.isIntersecting &&
            (entry.intersectionRatio >= ratio || entry.intersectionRect.height >= ratio * innerHeight - 1);
          update(dwelling);
        }
      }, 'dwell'),
      { threshold: THRESHOLDS },
    );
  context.onStop(() => observer?.disconnect());

  context.listen(
    document,
    'visibilitychange',
    () => {
      const now = performance.now();
      for (const entry of all()) update(entry, now);
      documentVisible = document.visibilityState === 'visible';
      for (const entry of all()) update(entry, now);
    },
    'dwell',
  );

  const measure = () => {
    frame = 0;
    const root = document.scrollingElement ?? document.documentElement;
    // Apps that scroll a main container instead of the window: its depth is the page's.
    const element =
      scroller instanceof Element && scroller !== root && scroller.clientHeight >= innerHeight / 2 ? scroller : root;
    if (element.scrollHeight > 0) {
      depth = Math.max(depth, Math.min(1, (element.scrollTop + element.clientHeight) / element.scrollHeight));
    }
  };
  const measureSoon = () => {
    frame ||= requestAnimationFrame(context.guard(measure, 'scroll'));
  };
  if (scroll) {
    context.listen(
      document,
      'scroll',
      (event) => {
        scroller = event.target;
        measureSoon();
      },
      'scroll',
    );
    context.onStop(() => cancelAnimationFrame(frame));
  }
  if (dwell) {
    context.onProductView((item, element) => {
      const shown = element ?? (dwell.element ? document.querySelector(dwell.element) : null) ?? undefined;
      const entry: Dwell = { item, inView: !shown, totalMs: 0, reportedMs: 0, reportedDepth: 0 };
      if (shown) {
        entry.element = shown;
        observer?.observe(shown);
      }
      update(entry);
      products.push(entry);
    });
  }

  return {
    enter() {
      observer?.disconnect();
      products = [];
      page = { inView: true, totalMs: 0, reportedMs: 0, reportedDepth: 0 };
      update(page);
      depth = 0;
      scroller = null;
    },
    scan() {
      if (scroll) measureSoon();
    },
    recordPending(_visit, leaving) {
      if (scroll) measure();
      const now = performance.now();
      const entries = dwell && products.length > 0 ? products : [page];
      const scrolled = Math.round(depth * 100) / 100;
      for (const entry of entries) {
        update(entry, now);
        const dwellMs = Math.min(DAY_MS, Math.round(entry.totalMs - entry.reportedMs));
        const moved = scroll && scrolled > entry.reportedDepth;
        if (!(dwell && dwellMs >= 1) && !moved) continue;
        const event: TrackInput = { type: 'engagement' };
        if (entry.item) event.item = entry.item;
        if (dwell) event.dwellMs = dwellMs;
        if (scroll) event.scrollDepth = scrolled;
        entry.reportedMs += dwellMs;
        entry.reportedDepth = scrolled;
        context.track(event);
      }
      if (leaving) {
        observer?.disconnect();
        for (const entry of all()) {
          entry.inView = false;
          update(entry, now);
        }
      }
    },
  };
}
