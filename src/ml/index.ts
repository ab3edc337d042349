/**
 * The on-device recommender over TF.js, behind the core's {@link ModelRuntime} interface. Loaded
 * lazily by the browser adapter; the model runs in a Web Worker where one starts, and each TF.js
 * backend is a separate chunk, fetched only when tried. Nothing here imports TF.js up front: a page
 * whose model runs in the worker never loads TF.js on its main thread.
 */
import type { ModelRuntime } from '../core/model/model-runtime.js';
import type { ModelRuntimeOptions } from './create-model-runtime.js';

export type { ModelRuntimeOptions } from './create-model-runtime.js';
export { type StartModelRuntimeOptions, startModelRuntime } from './start-model-runtime.js';
export type { WasmBinaryName, WasmPaths } from './wasm-paths.js';

/**
 * The model on this thread (see `create-model-runtime.ts`), with TF.js loaded when first called.
 * @throws OmniPersonaError `INVALID_OPTIONS` for bad options, `BACKEND_UNAVAILABLE` when no backend works.
 */
export async function createModelRuntime(options: ModelRuntimeOptions = {}): Promise<ModelRuntime> {
  return (await import('./create-model-runtime.js')).createModelRuntime(options);
}
