import type { PageContext } from '../core/event.js';
import type { BackendPreference, ModelRuntime } from '../core/model/model-runtime.js';
import { type CorePersonalizer, createCorePersonalizer } from '../core/personalizer/create-core-personalizer.js';
import type { PersonalizerOptions } from '../core/personalizer/options.js';
import type { Personalizer } from '../core/personalizer/personalizer.js';
import { readAutomationSignals } from './automation-signals.js';
import { type CaptureOptions, startCapture } from './capture/index.js';
import { createFetchTransport } from './fetch-transport.js';
import { DeviceStorage } from './idb-storage.js';
import { scheduleIdle } from './idle.js';
import { onPageHidden } from './page-lifecycle.js';
import { readPrivacySignals } from './privacy-signals.js';
import { randomId } from './random-id.js';
import { broadcastTabChannel, webLocksRunner } from './tab-coordination.js';
import { startWidgets } from './widgets.js';

/** Options of the browser personalizer: the core options plus what only a page has. */
export interface BrowserPersonalizerOptions extends PersonalizerOptions {
  /** Record product views and clicks from page markup. @default false (the script tag turns it on) */
  capture?: boolean | CaptureOptions;
  /** Fill `data-omnipersona-recs` elements with recommendations. @default false (the script tag turns it on) */
  widgets?: boolean;
  /** URL prefix of the TF.js WASM binaries (`tfjs-backend-wasm*.wasm`); without it the WASM backend is skipped. */
  wasmPaths?: string;
  /**
   * Train and score in a module Web Worker, off the page's main thread. Where the worker cannot
   * start, the model runs on the main thread (reported through `on('error')`). Your bundler must
   * emit the worker: Vite and webpack 5 do it from the SDK's `new Worker(new URL(…))`.
   * @default true
   */
  modelWorker?: boolean;
}

/** What the script tag replaces in the browser platform. */
export interface BrowserOverrides {
  /** The page context of the event being tracked now; the tag plays calls made on earlier pages. */
  context?: () => PageContext | undefined;
}

/** How the ML module is reached: a bundler import for npm users, a URL import for the script tag. */
export type MlModuleLoader = () => Promise<{
  startModelRuntime(options: {
    backend?: BackendPreference;
    wasmPaths?: string;
    worker?: boolean;
    onWorkerFailure?: (error: unknown) => void;
  }): Promise<ModelRuntime>;
}>;

/**
 * Wires the core to the browser: IndexedDB (memory when blocked), fetch, idle callbacks, page
 * lifecycle (queued events are written when the page is hidden), privacy and automation signals,
 * DOM capture and widgets, and the shop's other tabs (Web Locks so that one trains at a time, a
 * BroadcastChannel to share its result). Safe to call during server-side rendering: without `window`
 * it touches nothing.
 */
export function createBrowserPersonalizer(
  options: BrowserPersonalizerOptions,
  loadMl: MlModuleLoader,
  overrides: BrowserOverrides = {},
): Personalizer {
  const hasDom = typeof window !== 'undefined' && typeof document !== 'undefined';
  const runtimeOptions: Parameters<Awaited<ReturnType<MlModuleLoader>>['startModelRuntime']>[0] = {
    worker: options.modelWorker ?? true,
    // `core` exists by the time the model first loads.
    onWorkerFailure: (error) => core.reportError(error, 'The model runs on the main thread'),
  };
  if (options.backend) runtimeOptions.backend = options.backend;
  if (options.wasmPaths) runtimeOptions.wasmPaths = options.wasmPaths;
  const site = options.site ?? 'default';
  // The storage reports a fallback asynchronously, so `core` exists by then.
  const storage = new DeviceStorage(site, {
    onFallback: (error) => core.reportError(error, 'IndexedDB is unavailable; events are kept in memory'),
  });
  const core: CorePersonalizer = createCorePersonalizer(options, {
    log: storage.log,
    kv: storage.kv,
    ...(options.endpoint ? { transport: createFetchTransport(options.endpoint) } : {}),
    // The prior's URL is the whole path: relative URLs resolve against the page, like any fetch.
    ...(options.prior !== undefined ? { assets: createFetchTransport('') } : {}),
    loadRuntime: async () => (await loadMl()).startModelRuntime(runtimeOptions),
    scheduleIdle: hasDom ? scheduleIdle : (task) => setTimeout(task, 0),
    now: () => Date.now(),
    randomId,
    context: overrides.context ?? (hasDom ? () => pageContext() : () => undefined),
    eraseStorage: () => storage.erase(),
    ...(hasDom
      ? {
          onHidden: onPageHidden,
          privacySignals: readPrivacySignals,
          automationSignals: readAutomationSignals,
          exclusive: webLocksRunner(site),
          tabs: broadcastTabChannel(site),
        }
      : {}),
  });
  const emitError = (error: unknown) => core.reportError(error, 'Page integration failed');
  if (hasDom && options.capture) startCapture(core, options.capture === true ? {} : options.capture);
  if (hasDom && options.widgets) startWidgets(core, emitError);
  return core;
}

/**
 * The context of an event tracked on the page at `url` (this page by default). The referrer is this
 * page's, so it is left out for another page's URL.
 */
export function pageContext(url = location.href): PageContext {
  // Every event of a page view has the same context: parse its URL once, not per event.
  if (lastContext?.url === url && lastContext.from === location.href) return lastContext.context;
  const context: PageContext = { url };
  if (document.referrer && url === location.href) context.referrer = document.referrer;
  const utm: Record<string, string> = {};
  for (const [key, value] of new URL(url, location.href).searchParams) {
    if (key.startsWith('utm_')) utm[key.slice(4)] = value;
  }
  if (Object.keys(utm).length > 0) context.utm = Object.freeze(utm);
  // Shared by the events of the page view, so nobody may change it.
  lastContext = { url, from: location.href, context: Object.freeze(context) };
  return context;
}

let lastContext: { url: string; from: string; context: PageContext } | undefined;
