/**
 * The script tag's app module, built as `dist/omnipersona-app.js` and imported by the tracker
 * (`omnipersona.js`) from its own URL: the personalizer with capture, cleaning, storage, widgets and
 * the model manager. The ML module is a further chunk, loaded when the model first runs.
 */
import { createBrowserPersonalizer, pageContext } from '../browser/create-browser-personalizer.js';
import { readTagConfig } from './read-tag-config.js';
import {
  keptCallsKey,
  keptCallsPrefix,
  TAG_METHODS,
  type TagCall,
  type TagMethod,
  type TagSession,
} from './tag-call.js';

const moduleUrl = import.meta.url;

/**
 * Starts the personalizer for the tag `script`, plays the calls earlier pages of the shop kept
 * (made before their app module arrived), and returns the session the tracker hands its calls to.
 */
export function start(script: HTMLScriptElement | null, pageId: string): TagSession {
  const options = readTagConfig(script);
  const site = options.site ?? 'default';
  // Set while a call made earlier (before this module arrived, or on another page) is played.
  let playedUrl: string | undefined;
  const personalizer = createBrowserPersonalizer(
    // The binaries sit next to this module (`dist/wasm/`); a plain URL, not an asset for the bundler.
    { ...options, wasmPaths: new URL('wasm/', moduleUrl).href },
    () => import('../ml/index.js'),
    { context: () => pageContext(playedUrl) },
  );
  const warned = new Set<string>();
  const warn = (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    if (warned.has(message)) return;
    warned.add(message);
    console.warn(`[omnipersona] ${message}`);
  };
  personalizer.on('error', warn);

  const forget = async () => {
    await personalizer.forget();
    removeKeptCalls(site, () => true);
  };

  const dispatch = ({ method, args, url }: TagCall): unknown => {
    if (!(TAG_METHODS as readonly string[]).includes(method)) {
      warn(`Unknown command "${String(method)}"; expected one of ${TAG_METHODS.join(', ')}`);
      return undefined;
    }
    const rest = [...args];
    const callback =
      typeof rest.at(-1) === 'function' && method !== 'on' ? (rest.pop() as (value: unknown) => void) : undefined;
    playedUrl = url;
    try {
      const call = method === 'forget' ? forget : (personalizer[method as TagMethod] as (...a: unknown[]) => unknown);
      const result = call.apply(personalizer, rest);
      if (result instanceof Promise) {
        return result.then(
          (value) => {
            callback?.(value);
            return value;
          },
          (error: unknown) => {
            warn(error);
            return undefined;
          },
        );
      }
      callback?.(result);
      return result;
    } catch (error) {
      // Malformed input from the page is dropped with one warning; nothing is thrown into the page.
      warn(error);
      return undefined;
    } finally {
      playedUrl = undefined;
    }
  };

  const ownKey = keptCallsKey(site, pageId);
  for (const calls of removeKeptCalls(site, (key) => key !== ownKey)) {
    for (const call of calls) dispatch(call);
  }
  return { dispatch, catalog: personalizer.catalog };
}

/**
 * Removes the calls kept by pages of `site` whose keys `select` picks, and returns them, oldest page
 * first. Unreadable or blocked storage yields nothing.
 */
function removeKeptCalls(site: string, select: (key: string) => boolean): TagCall[][] {
  const found: { at: number; calls: TagCall[] }[] = [];
  try {
    const prefix = keptCallsPrefix(site);
    const keys: string[] = [];
    for (let i = 0; i < localStorage.length; i++) {
      const key = localStorage.key(i);
      if (key?.startsWith(prefix) && select(key)) keys.push(key);
    }
    for (const key of keys) {
      const value = localStorage.getItem(key);
      localStorage.removeItem(key);
      const kept = parseKept(value);
      if (kept) found.push(kept);
    }
  } catch {
    // localStorage is blocked (a sandboxed frame, a privacy mode): nothing was kept.
  }
  return found.sort((a, b) => a.at - b.at).map((kept) => kept.calls);
}

function parseKept(value: string | null): { at: number; calls: TagCall[] } | undefined {
  try {
    const kept = JSON.parse(value ?? '') as { at?: unknown; calls?: unknown };
    if (typeof kept.at !== 'number' || !Array.isArray(kept.calls)) return undefined;
    const calls = kept.calls.filter(
      (call): call is TagCall =>
        typeof call === 'object' && call !== null && typeof call.method === 'string' && Array.isArray(call.args),
    );
    return { at: kept.at, calls };
  } catch {
    return undefined;
  }
}
