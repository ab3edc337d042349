import type { CaptureContext, CapturePart } from './capture-context.js';

/**
 * `page` events: one per visit (page load, SPA route, return from the back/forward cache). The event
 * waits until the route has rendered — the first scan after it settles — so that it carries the new
 * title, and goes out before any other event of the visit.
 */
export function capturePageViews(context: CaptureContext): CapturePart {
  return {
    enter(visit) {
      visit.pagePending = true;
    },
    scan: () => context.flushPage(),
    recordPending: () => context.flushPage(),
  };
}

/** Campaign and click-id parameters: apps often strip them with `replaceState` right after landing. */
const TRACKING_PARAM = /^(?:utm_\w+|gclid|gbraid|wbraid|dclid|fbclid|msclkid|ttclid|twclid|mc_cid|mc_eid|_ga|_gl)$/u;

/**
 * The part of a URL that tells pages apart: everything but an in-page anchor and campaign
 * parameters. A hash that looks like a route (`#/cart`, `#!/cart`), or any hash with `allHashes`,
 * is part of it.
 */
export function pageKey(url: URL, allHashes: boolean): string {
  const params = [...url.searchParams].filter(([name]) => !TRACKING_PARAM.test(name));
  const query = params.length > 0 ? `?${new URLSearchParams(params)}` : '';
  const routeHash = allHashes || /^#!?\//u.test(url.hash);
  return `${url.origin}${url.pathname}${query}${routeHash ? url.hash : ''}`;
}
