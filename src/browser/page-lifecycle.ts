import type { HiddenObserver } from '../core/adapters.js';

/**
 * Calls the listener when the page is hidden (tab switched, app backgrounded, screen locked) or
 * unloaded (closed, navigated away, put in the back-forward cache). `visibilitychange` to `hidden`
 * is the last event mobile browsers reliably fire before killing a page; `pagehide` covers
 * desktop closes and navigations. Both can fire for one close: writing twice is harmless.
 */
export const onPageHidden: HiddenObserver = (listener) => {
  const onVisibility = () => {
    if (document.visibilityState === 'hidden') listener();
  };
  document.addEventListener('visibilitychange', onVisibility);
  window.addEventListener('pagehide', listener);
  return () => {
    document.removeEventListener('visibilitychange', onVisibility);
    window.removeEventListener('pagehide', listener);
  };
};
