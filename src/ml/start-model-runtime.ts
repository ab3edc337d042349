import { toOmniPersonaError } from '../core/errors.js';
import type { ModelRuntime } from '../core/model/model-runtime.js';
import type { ModelRuntimeOptions } from './create-model-runtime.js';
import { createWorkerModelRuntime } from './worker-model-runtime.js';

export interface StartModelRuntimeOptions extends ModelRuntimeOptions {
  /**
   * Run the model in a Web Worker, so that training and scoring never hold the page's main thread.
   * Where a worker cannot start (no `Worker`, a Content-Security-Policy without `worker-src` for the
   * SDK's origin, a bundler that does not emit it), the model runs on the main thread instead.
   * @default true
   */
  worker?: boolean;
  /** Hears why the worker could not start, before the main thread takes over. */
  onWorkerFailure?: (error: unknown) => void;
}

/**
 * The model runtime the browser uses: in a Web Worker when one starts, else on the main thread.
 * @throws OmniPersonaError `BACKEND_UNAVAILABLE` when no backend works on the main thread either.
 */
export async function startModelRuntime(options: StartModelRuntimeOptions = {}): Promise<ModelRuntime> {
  const { worker = true, onWorkerFailure, ...runtimeOptions } = options;
  if (worker && typeof Worker === 'function') {
    try {
      return await createWorkerModelRuntime(runtimeOptions);
    } catch (error) {
      onWorkerFailure?.(toOmniPersonaError(error, 'BACKEND_UNAVAILABLE', 'The model worker did not start'));
    }
  }
  // Loaded only now: a page whose model runs in the worker never fetches TF.js for its main thread.
  const { createModelRuntime } = await import('./create-model-runtime.js');
  return createModelRuntime(runtimeOptions);
}
