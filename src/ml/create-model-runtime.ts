import { describeValue, OmniPersonaError } from '../core/errors.js';
import type { BackendPreference, ModelRuntime } from '../core/model/model-runtime.js';
import { BACKEND_ORDER, selectBackend } from './select-backend.js';
import { TfjsModelRuntime } from './tfjs-model-runtime.js';
import type { WasmPaths } from './wasm-paths.js';

export interface ModelRuntimeOptions {
  /**
   * `'auto'` takes the fastest backend that works here: WebGPU or WebGL on a hardware GPU, else
   * WASM, else CPU. A backend name is tried first (even on a software GPU), then the same order.
   * @default 'auto'
   */
  backend?: BackendPreference;
  /**
   * Where the WASM backend's `.wasm` files are served: a folder URL ending in `/`, or one URL per
   * file (what a bundler's asset imports give; `tfjs-backend-wasm.wasm` and
   * `tfjs-backend-wasm-simd.wasm` are needed, the threaded build is never used).
   * @default in Node the installed `@tensorflow/tfjs-backend-wasm` folder; in a browser TF.js' own
   * guess, the folder of the page, which only works if the files were copied there.
   */
  wasmPaths?: WasmPaths;
  /** Limit for loading, starting and checking one backend before the next one is tried. @default 10000 */
  initTimeoutMs?: number;
}

/** Defaults of {@link ModelRuntimeOptions}. */
export const MODEL_RUNTIME_DEFAULTS = { backend: 'auto', initTimeoutMs: 10_000 } as const;

/**
 * Starts TF.js on the best backend here and returns the recommender's runtime, with no model loaded.
 * TF.js' backend is global to the page; several runtimes share it and switch it as they run.
 *
 * @example
 * const runtime = await createModelRuntime({ wasmPaths: '/assets/tfjs/' });
 * await runtime.load(config, weights, { categories: catalog.itemCategories() });
 * const scores = await runtime.score(historyInput(itemSteps(events, catalog), Date.now()));
 *
 * @throws OmniPersonaError `INVALID_OPTIONS` for bad options, `BACKEND_UNAVAILABLE` when no backend works.
 */
export async function createModelRuntime(options: ModelRuntimeOptions = {}): Promise<ModelRuntime> {
  const { backend: preference, initTimeoutMs, wasmPaths } = { ...MODEL_RUNTIME_DEFAULTS, ...options };
  if (preference !== 'auto' && !BACKEND_ORDER.includes(preference)) {
    throw new OmniPersonaError(
      'INVALID_OPTIONS',
      `backend should be 'auto' or one of ${BACKEND_ORDER.join(', ')}, received ${describeValue(preference)}`,
    );
  }
  if (!(Number.isFinite(initTimeoutMs) && initTimeoutMs > 0)) {
    throw new OmniPersonaError(
      'INVALID_OPTIONS',
      `initTimeoutMs should be a positive number, received ${describeValue(initTimeoutMs)}`,
    );
  }
  const settings = { initTimeoutMs, ...(wasmPaths === undefined ? {} : { wasmPaths }) };
  const { backend } = await selectBackend({ ...settings, preference });
  return new TfjsModelRuntime(backend, settings);
}
