/**
 * The tracker: the script-tag entry, built as the classic script `dist/omnipersona.js`, the only
 * file a page loads up front. It installs `window.omnipersona`, takes over the calls queued by the
 * stub snippet, and imports the app module (`omnipersona-app.js`, from its own URL) without
 * waiting for it. Until the app arrives, calls wait here in order; a page that goes away first keeps
 * its tracking calls in `localStorage` for the shop's next page.
 *
 * `track()` costs the page one array push: events are validated, cleaned and stored afterwards, in
 * slices of a few milliseconds between the page's own tasks. A malformed event is dropped with one
 * console warning. Only this module and the app module touch `window`.
 */

import { randomId } from '../browser/random-id.js';
import type { ConsentTier } from '../core/consent.js';
import type { Personalizer } from '../core/personalizer/personalizer.js';
import { readInlineConfig } from './inline-config.js';
import {
  KEPT_METHODS,
  keptCallsKey,
  TAG_METHODS,
  type TagAppModule,
  type TagCall,
  type TagSession,
} from './tag-call.js';

/** A slice of queued calls runs at most this long before the page gets the main thread back. */
const SLICE_MS = 4;
/** Most calls held while the app module has not loaded (or cannot); the oldest are dropped beyond it. */
const MAX_WAITING = 1000;

type StubFunction = ((...args: unknown[]) => unknown) & { q?: ArrayLike<unknown>[] };

interface Waiting extends TagCall {
  settle?: (value: unknown) => void;
}

declare global {
  interface Window {
    omnipersona?: StubFunction & Partial<Personalizer>;
  }
}

function install(): void {
  if (typeof window.omnipersona?.status === 'function') {
    // A page that includes the tag twice (a theme and an app, say) must not run two personalizers.
    console.warn('[omnipersona] omnipersona.js is already running on this page; this copy does nothing');
    return;
  }
  const script = findOwnScript();
  const base = new URL('.', script?.src || location.href);
  const data = script?.dataset ?? {};
  const inline = readInlineConfig(data.config);
  const site = String(data.site ?? inline.site ?? 'default');
  const tagConsent = data.consent ?? inline.consent;
  const pageId = randomId();
  const keptKey = keptCallsKey(site, pageId);

  const calls: Waiting[] = [];
  let next = 0;
  let session: TagSession | undefined;
  let failed = false;
  let scheduled = false;
  let lastTime = 0;
  const channel = new MessageChannel();
  channel.port1.onmessage = () => play(SLICE_MS);
  const schedule = () => {
    if (scheduled || !session) return;
    scheduled = true;
    channel.port2.postMessage(0);
  };

  /** Plays waiting calls in order, for at most `budget` ms (all of them when `budget` is infinite). */
  function play(budget: number): void {
    scheduled = false;
    const started = performance.now();
    while (session && next < calls.length) {
      if (next % 32 === 0 && performance.now() - started > budget) {
        schedule();
        return;
      }
      const waiting = calls[next++] as Waiting;
      // Not `settle?.(dispatch())`: optional chaining would skip the call for tracks, which have no settle.
      const result = session.dispatch(waiting);
      waiting.settle?.(result);
    }
    calls.length = 0;
    next = 0;
  }

  function call(method: string, args: unknown[]): unknown {
    if (session && next === calls.length && method !== 'track') return session.dispatch({ method, args });
    const waiting: Waiting = { method, args };
    if (failed) {
      // The app cannot load on this page: tracking calls wait for the next page, the rest answer nothing.
      if (KEPT_METHODS.includes(method)) wait(waiting);
      return method === 'track' ? undefined : method === 'on' ? () => {} : Promise.resolve(undefined);
    }
    wait(waiting);
    schedule();
    if (method === 'track') return undefined;
    if (method === 'on') {
      let off: unknown;
      let cancelled = false;
      waiting.settle = (value) => {
        off = value;
        if (cancelled && typeof off === 'function') off();
      };
      return () => {
        cancelled = true;
        if (typeof off === 'function') off();
      };
    }
    return new Promise((resolve) => {
      waiting.settle = resolve;
    });
  }

  function wait(waiting: Waiting): void {
    calls.push(waiting);
    if (session) return;
    stamp(waiting);
    if (calls.length - next > MAX_WAITING) calls[next++]?.settle?.(undefined);
  }

  /** A tracked event waiting for the app gets its id, time and page now, when it happens. */
  function stamp(waiting: Waiting): void {
    waiting.url = location.href;
    const [event, ...rest] = waiting.args;
    if (waiting.method !== 'track' || typeof event !== 'object' || event === null || Array.isArray(event)) return;
    lastTime = Math.max(Date.now(), lastTime + 1);
    waiting.args = [{ id: randomId(), time: lastTime, ...event }, ...rest];
  }

  /** The page may be going away: play what waits, or keep the tracking calls for the next page. */
  function onHidden(): void {
    if (session) {
      play(Number.POSITIVE_INFINITY);
      return;
    }
    try {
      const kept = calls.slice(next).filter((waiting) => KEPT_METHODS.includes(waiting.method));
      let consent = tagConsent;
      for (const waiting of kept) if (waiting.method === 'setConsent') consent = waiting.args[0];
      if (kept.length === 0 || (consent as ConsentTier) === 'none') localStorage.removeItem(keptKey);
      else {
        // A sign-in's shopper token is a credential: it is not written to storage (the next page passes its own).
        const plain = kept.map(({ method, args, url }) => ({
          method,
          args: method === 'identify' ? args.slice(0, 1) : args,
          url,
        }));
        localStorage.setItem(keptKey, JSON.stringify({ at: Date.now(), calls: plain }));
      }
    } catch {
      // Storage blocked or full: the calls stay in memory, played if the page comes back.
    }
  }
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') onHidden();
  });
  window.addEventListener('pagehide', onHidden);

  const api = ((method: unknown, ...args: unknown[]) => {
    try {
      return call(String(method), args);
    } catch (error) {
      console.warn('[omnipersona]', error);
      return undefined;
    }
  }) as StubFunction & Partial<Personalizer>;
  for (const method of TAG_METHODS) {
    (api as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => api(method, ...args);
  }
  for (const queued of Array.from(window.omnipersona?.q ?? [])) {
    const [method, ...args] = Array.from(queued);
    call(String(method), args);
  }
  window.omnipersona = api;

  import(/* @vite-ignore */ new URL('omnipersona-app.js', base).href).then(
    (app: TagAppModule) => {
      session = app.start(script, pageId);
      Object.defineProperty(api, 'catalog', { value: session.catalog, configurable: true });
      try {
        localStorage.removeItem(keptKey);
      } catch {
        // Nothing was kept where storage is blocked.
      }
      schedule();
    },
    (error: unknown) => {
      failed = true;
      console.warn('[omnipersona] could not load omnipersona-app.js; tracking calls are kept for the next page', error);
      for (const waiting of calls.slice(next)) {
        waiting.settle?.(waiting.method === 'on' ? () => {} : undefined);
        waiting.settle = undefined;
      }
    },
  );
}

function findOwnScript(): HTMLScriptElement | null {
  const current = document.currentScript;
  if (current instanceof HTMLScriptElement) return current;
  return document.querySelector<HTMLScriptElement>('script[src*="omnipersona.js"]');
}

try {
  install();
} catch (error) {
  console.warn('[omnipersona] failed to start', error);
}
