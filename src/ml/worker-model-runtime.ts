import { type Remote, releaseProxy, wrap } from 'comlink';
import { OmniPersonaError } from '../core/errors.js';
import type {
  BackendName,
  HistoryInput,
  ItemFeatures,
  ModelRuntime,
  TrainingExample,
  TrainOptions,
  TrainReport,
} from '../core/model/model-runtime.js';
import type { ModelConfig } from '../core/model/model-spec.js';
import type { WeightSet } from '../core/model/weights.js';
import { withTimeout } from '../core/with-timeout.js';
import type { ModelRuntimeOptions } from './create-model-runtime.js';
import type { ModelWorkerApi } from './model-worker.js';
import type { WorkerReply } from './worker-reply.js';

/** Longest wait for the worker to load TF.js and pick a backend, beyond the per-backend limits. */
const START_MARGIN_MS = 15_000;

/**
 * Starts the model in a module Web Worker and returns its runtime: training and scoring run there,
 * and the page's main thread only posts the inputs and receives the results (scores and weights
 * are transferred, not copied).
 * @throws OmniPersonaError `BACKEND_UNAVAILABLE` when the worker cannot start or no backend works in it.
 */
export async function createWorkerModelRuntime(options: ModelRuntimeOptions): Promise<ModelRuntime> {
  // The literal `new Worker(new URL(…, import.meta.url))` is what bundlers (Vite, webpack) look for.
  const worker = new Worker(new URL('./model-worker.js', import.meta.url), {
    type: 'module',
    name: 'omnipersona-model',
  });
  const remote = wrap<ModelWorkerApi>(worker);
  const failed = new Promise<never>((_, reject) => {
    worker.addEventListener('error', (event) => {
      reject(new OmniPersonaError('BACKEND_UNAVAILABLE', `The model worker failed to load: ${event.message}`));
    });
  });
  try {
    const started = await withTimeout(
      Promise.race([remote.start(options), failed]),
      (options.initTimeoutMs ?? 10_000) * 4 + START_MARGIN_MS,
      () => new OmniPersonaError('BACKEND_UNAVAILABLE', 'The model worker did not start in time'),
    );
    if (!started.ok) throw new OmniPersonaError(started.code, started.message);
    return new WorkerModelRuntime(worker, remote, started.backend);
  } catch (error) {
    remote[releaseProxy]();
    worker.terminate();
    throw error;
  }
}

/** {@link ModelRuntime} whose model lives in a worker; see {@link createWorkerModelRuntime}. */
class WorkerModelRuntime implements ModelRuntime {
  readonly #worker: Worker;
  readonly #remote: Remote<ModelWorkerApi>;
  #backend: BackendName;

  constructor(worker: Worker, remote: Remote<ModelWorkerApi>, backend: BackendName) {
    this.#worker = worker;
    this.#remote = remote;
    this.#backend = backend;
  }

  get backend(): BackendName {
    return this.#backend;
  }

  async load(config: ModelConfig, weights: WeightSet, features: ItemFeatures): Promise<void> {
    this.#settle(await this.#remote.load(config, weights, features));
  }

  async weights(): Promise<WeightSet> {
    return this.#settle(await this.#remote.weights());
  }

  async train(examples: TrainingExample[], options?: TrainOptions): Promise<TrainReport> {
    return this.#settle(await this.#remote.train(examples, options));
  }

  async score(history: HistoryInput): Promise<Float32Array> {
    return this.#settle(await this.#remote.score(history));
  }

  async dispose(): Promise<void> {
    try {
      await this.#remote.dispose();
    } finally {
      this.#remote[releaseProxy]();
      this.#worker.terminate();
    }
  }

  #settle<T>(reply: WorkerReply<T>): T {
    if (reply.ok) this.#backend = reply.backend;
    return unwrapReply(reply);
  }
}

function unwrapReply<T>(reply: WorkerReply<T>): T {
  if (reply.ok) return reply.value;
  throw new OmniPersonaError(reply.code, reply.message);
}
