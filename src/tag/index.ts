/**
 * The script-tag entry, built as the classic script `dist/omnipersona.js`. It is the only module that
 * touches `window`: it reads its configuration from its own tag, replays calls queued by the stub
 * snippet, and loads the ML chunk from its own URL when the model is first needed.
 */
import { type BrowserPersonalizerOptions, createBrowserPersonalizer } from '../browser/create-browser-personalizer.js';
import type { Personalizer } from '../core/personalizer/personalizer.js';
import { readTagConfig } from './read-tag-config.js';

type Command = [method: string, ...args: unknown[]];
type StubFunction = ((...args: unknown[]) => unknown) & { q?: ArrayLike<unknown>[] };

declare global {
  interface Window {
    omnipersona?: StubFunction & Partial<Personalizer>;
  }
}

const METHODS = [
  'track',
  'identify',
  'recommend',
  'profile',
  'train',
  'sync',
  'forget',
  'status',
  'setConsent',
  'on',
  'flush',
] as const;

function install(): void {
  const script = findOwnScript();
  const base = new URL('.', script?.src || location.href);
  const options: BrowserPersonalizerOptions = {
    ...readTagConfig(script),
    wasmPaths: new URL('wasm/', base).href,
  };
  const personalizer = createBrowserPersonalizer(
    options,
    () => import(/* @vite-ignore */ new URL('omnipersona-ml.js', base).href),
  );
  const warned = new Set<string>();
  const warn = (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    if (warned.has(message)) return;
    warned.add(message);
    console.warn(`[omnipersona] ${message}`);
  };

  const dispatch = (...command: unknown[]): unknown => {
    const [method, ...args] = command as Command;
    if (!(METHODS as readonly string[]).includes(method)) {
      warn(`Unknown command "${String(method)}"; expected one of ${METHODS.join(', ')}`);
      return undefined;
    }
    const callback =
      typeof args.at(-1) === 'function' && method !== 'on' ? (args.pop() as (value: unknown) => void) : undefined;
    try {
      const result = (personalizer[method as (typeof METHODS)[number]] as (...a: unknown[]) => unknown)(...args);
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
    }
  };

  const queued = window.omnipersona?.q ?? [];
  const api = Object.assign(dispatch, personalizer) as StubFunction & Personalizer;
  for (const method of METHODS) {
    (api as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => dispatch(method, ...args);
  }
  window.omnipersona = api;
  for (const call of Array.from(queued)) dispatch(...Array.from(call));
  personalizer.on('error', warn);
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
