/**
 * The on-device recommender over TF.js, behind the core's {@link ModelRuntime} interface. Loaded
 * lazily by the browser adapter; the model runs in a Web Worker where one starts, and each TF.js
 * backend is a separate chunk, fetched only when tried.
 */
export { createModelRuntime, MODEL_RUNTIME_DEFAULTS, type ModelRuntimeOptions } from './create-model-runtime.js';
export { type StartModelRuntimeOptions, startModelRuntime } from './start-model-runtime.js';
export type { WasmBinaryName, WasmPaths } from './wasm-paths.js';
