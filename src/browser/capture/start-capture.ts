import { OmniPersonaError } from '../../core/errors.js';
import { ITEM_ATTRIBUTE, PURCHASE_ATTRIBUTE } from './attributes.js';
import { CaptureContext, type CapturePart, type CaptureSink } from './capture-context.js';
import { type CaptureOptions, resolveCaptureOptions } from './capture-options.js';
import { captureCartChanges } from './cart-changes.js';
import { captureDataLayer } from './data-layer.js';
import { captureEngagement } from './engagement.js';
import { capturePageViews, pageKey } from './page-views.js';
import { captureProductClicks } from './product-clicks.js';
import { captureProductViews } from './product-views.js';
import { capturePurchases } from './purchases.js';
import { createScanScheduler } from './scan-scheduler.js';
import { captureSearches } from './searches.js';
import { Visit } from './visit.js';
import { watchNavigation } from './watch-navigation.js';

/** How long after a navigation its first scan runs at the latest. */
const FIRST_SCAN_MS = 100;

/**
 * Starts automatic capture on this page: page views (with SPA navigation), product views, clicks,
 * cart changes, purchases, GA4 dataLayer events, searches, dwell time and scroll depth, each
 * switchable through {@link CaptureOptions}. Everything runs from passive listeners, one debounced
 * MutationObserver and one IntersectionObserver; every callback is guarded, and failures (a bad
 * option, an event the schema rejects) go to `sink.reportError`, never into the page.
 * Returns a function that records what is pending (the page event, engagement), stops capture and
 * restores what it wrapped.
 */
export function startCapture(sink: CaptureSink, options: CaptureOptions = {}): () => void {
  const problems: string[] = [];
  const config = resolveCaptureOptions(options, (message) => problems.push(message));
  const allHashes = config.pages?.hash ?? false;
  const visitOf = (url: URL) => new Visit(url, pageKey(url, allHashes));
  const context = new CaptureContext(sink, visitOf(new URL(location.href)));
  // Reported after the caller has had a chance to listen to errors (the script tag does so right after creating the personalizer).
  if (problems.length > 0) {
    queueMicrotask(() => {
      for (const message of problems)
        context.report(new OmniPersonaError('INVALID_OPTIONS', message), 'Capture options');
    });
  }

  const parts: CapturePart[] = [];
  const scan = context.guard(() => {
    context.visit.scanned = true;
    for (const part of parts) if (part.scan) context.guard(part.scan, 'scan')(context.visit);
  }, 'scan');
  const scheduler = createScanScheduler(scan, [ITEM_ATTRIBUTE, PURCHASE_ATTRIBUTE]);
  context.scanIfPending = () => {
    if (!context.visit.scanned) scan();
  };
  context.onStop(scheduler.stop);

  if (config.pages) parts.push(capturePageViews(context));
  if (config.products) parts.push(captureProductViews(context, config.products, config.productUrls, scheduler));
  if (config.purchases) parts.push(capturePurchases(context, config.purchases));
  if (config.dataLayer) parts.push(captureDataLayer(context, config.dataLayer.name));
  if (config.search) parts.push(captureSearches(context, config.search, scheduler));
  if (config.dwell || config.scroll) parts.push(captureEngagement(context, config.dwell, config.scroll ?? false));
  if (config.clicks) captureProductClicks(context, config.clicks, config.productUrls);
  if (config.cart) captureCartChanges(context, config.cart);

  let left = false;
  const recordPending = (leaving: boolean) => {
    for (const part of parts)
      if (part.recordPending) context.guard(part.recordPending, 'record')(context.visit, leaving);
    context.flush();
  };
  const leave = () => {
    if (left) return;
    left = true;
    // A visit shorter than its first scan (a quick shopper, a busy main thread) is scanned now —
    // unless the DOM is changing in this very task, which may be the next route rendering first.
    if (!context.visit.scanned && !scheduler.changing()) scan();
    recordPending(true);
  };
  const enter = (url: URL) => {
    left = false;
    context.visit = visitOf(url);
    for (const part of parts) if (part.enter) context.guard(part.enter, 'enter')(context.visit);
    // The route renders within a frame or two; a page that keeps changing must not hold up its
    // page and product views until the shopper has moved on.
    scheduler.schedule(FIRST_SCAN_MS);
  };

  watchNavigation(context, {
    willNavigate(url) {
      if (pageKey(url, allHashes) !== context.visit.key) leave();
    },
    navigated() {
      const url = new URL(location.href);
      if (pageKey(url, allHashes) === context.visit.key) return;
      leave();
      enter(url);
    },
    lifecycle(state) {
      if (state === 'hidden') recordPending(false);
      else if (state === 'left') leave();
      else enter(new URL(location.href));
    },
  });
  enter(context.visit.url);
  return () => {
    leave();
    context.stop();
  };
}
