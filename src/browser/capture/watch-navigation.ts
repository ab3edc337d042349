import type { CaptureContext } from './capture-context.js';

/** What happens to the page's URL and lifetime, as {@link watchNavigation} reports it. */
export interface NavigationHandlers {
  /** `history.pushState`/`replaceState` is about to go to `url` (the current URL while the page still shows it). */
  willNavigate(url: URL): void;
  /** The URL may have changed: after `pushState`/`replaceState`, on `popstate` and `hashchange`. */
  navigated(): void;
  /** The page is going away (`pagehide`), or came back from the back/forward cache (`pageshow`). */
  lifecycle(state: 'hidden' | 'left' | 'restored'): void;
}

type HistoryMethod = 'pushState' | 'replaceState';

/**
 * Follows navigation in single-page apps: wraps `history.pushState` and `replaceState` and listens
 * to `popstate`, `hashchange`, `pagehide`, `pageshow` and `visibilitychange`. The wrappers call
 * through to whatever was there before — the browser's method, or another script's wrapper — with
 * the page's own arguments, `this` and return value, and let the page's errors through. `stop`
 * puts the previous method back, or leaves a pass-through when another script has wrapped ours since.
 */
export function watchNavigation(context: CaptureContext, handlers: NavigationHandlers): void {
  for (const method of ['pushState', 'replaceState'] as const) wrapHistory(context, method, handlers);
  context.listen(window, 'popstate', handlers.navigated, 'popstate');
  context.listen(window, 'hashchange', handlers.navigated, 'hashchange');
  context.listen(window, 'pagehide', () => handlers.lifecycle('left'), 'pagehide');
  context.listen(
    window,
    'pageshow',
    (event) => {
      if ((event as PageTransitionEvent).persisted) handlers.lifecycle('restored');
    },
    'pageshow',
  );
  context.listen(
    document,
    'visibilitychange',
    () => {
      if (document.visibilityState === 'hidden') handlers.lifecycle('hidden');
    },
    'visibilitychange',
  );
}

function wrapHistory(context: CaptureContext, method: HistoryMethod, handlers: NavigationHandlers): void {
  // An own property is another script's wrapper; without one, the prototype's method is looked up
  // at each call, so a later patch of History.prototype still runs.
  const own = Object.hasOwn(history, method) ? history[method] : undefined;
  let active = true;
  const before = context.guard((url: string | URL | null | undefined) => {
    handlers.willNavigate(url == null ? new URL(location.href) : new URL(url, location.href));
  }, method);
  const after = context.guard(handlers.navigated, method);
  const wrapper = function (this: History, ...args: Parameters<History[HistoryMethod]>): void {
    if (active) before(args[2]);
    const original = own ?? (Object.getPrototypeOf(history) as History)[method];
    original.apply(this, args);
    if (active) after();
  };
  history[method] = wrapper;
  context.onStop(() => {
    active = false;
    if (history[method] !== wrapper) return;
    if (own) history[method] = own;
    else delete (history as Partial<History>)[method];
  });
}
