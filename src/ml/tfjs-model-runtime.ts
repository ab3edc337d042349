import { OmniPersonaError, toOmniPersonaError } from '../core/errors.js';
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
import { cloneWeights, type WeightSet } from '../core/model/weights.js';
import { RecommenderModel } from './recommender-model.js';
import { activateBackend, forgetBackend, selectBackend, watchDeviceLoss } from './select-backend.js';
import { trainModel } from './train-model.js';
import type { WasmPaths } from './wasm-paths.js';

/** Settings kept for choosing a backend again after a failure. */
export interface RuntimeSettings {
  wasmPaths?: WasmPaths;
  initTimeoutMs: number;
}

interface Loaded {
  config: ModelConfig;
  features: ItemFeatures;
  /** The last weights known good: those loaded or those after the last training. */
  snapshot: WeightSet;
  model: RecommenderModel;
}

/**
 * {@link ModelRuntime} over TF.js. Calls run one at a time, in order. When the backend fails during a
 * call (a lost WebGPU device, a kernel error), the runtime moves to the next backend that works,
 * rebuilds the model there from its last good weights and retries the call once.
 */
export class TfjsModelRuntime implements ModelRuntime {
  #backend: BackendName;
  readonly #settings: RuntimeSettings;
  readonly #failed = new Set<BackendName>();
  #loaded: Loaded | undefined;
  #lost = false;
  #disposed = false;
  #queue: Promise<unknown> = Promise.resolve();
  #trainCalls = 0;

  constructor(backend: BackendName, settings: RuntimeSettings) {
    this.#backend = backend;
    this.#settings = settings;
    this.#watch();
  }

  get backend(): BackendName {
    return this.#backend;
  }

  load(config: ModelConfig, weights: WeightSet, features: ItemFeatures): Promise<void> {
    return this.#serial('MODEL_UNAVAILABLE', 'Loading the model failed', async () => {
      if (this.#disposed) throw new OmniPersonaError('MODEL_UNAVAILABLE', 'The model runtime was disposed');
      const model = await this.#withFailover(async () => RecommenderModel.create(config, weights, features));
      this.#loaded?.model.dispose();
      const snapshot = cloneWeights(weights);
      this.#loaded = {
        config: { ...config },
        features: {
          categories: features.categories.slice(),
          brands: features.brands.slice(),
          priceBands: features.priceBands.slice(),
        },
        snapshot,
        model,
      };
    });
  }

  weights(): Promise<WeightSet> {
    return this.#serial('MODEL_UNAVAILABLE', 'Reading the weights failed', () =>
      this.#withFailover(() => this.#model().weights()),
    );
  }

  score(history: HistoryInput): Promise<Float32Array> {
    return this.#serial('MODEL_UNAVAILABLE', 'Scoring failed', () =>
      this.#withFailover(() => this.#model().score(history)),
    );
  }

  train(examples: TrainingExample[], options?: TrainOptions): Promise<TrainReport> {
    return this.#serial('TRAINING_FAILED', 'Training failed', async () => {
      const started = performance.now();
      this.#trainCalls++;
      const seed = options?.seed ?? this.#trainCalls;
      const { result, weights } = await this.#withFailover(async () => {
        const model = this.#model();
        const result = await trainModel(model, examples, options, seed);
        return { result, weights: await model.weights() };
      });
      (this.#loaded as Loaded).snapshot = weights;
      const milliseconds = performance.now() - started;
      return { backend: this.#backend, examples: examples.length, ...result, milliseconds };
    });
  }

  dispose(): Promise<void> {
    return this.#serial('INTERNAL', 'Disposing the model failed', async () => {
      this.#disposed = true;
      this.#loaded?.model.dispose();
      this.#loaded = undefined;
    });
  }

  #model(): RecommenderModel {
    if (this.#disposed) throw new OmniPersonaError('MODEL_UNAVAILABLE', 'The model runtime was disposed');
    if (!this.#loaded) throw new OmniPersonaError('MODEL_UNAVAILABLE', 'No model is loaded: call load() first');
    return this.#loaded.model;
  }

  /** Runs `op` after every earlier call; anything it throws becomes an OmniPersonaError. */
  #serial<T>(code: OmniPersonaError['code'], context: string, op: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(op).catch((error: unknown) => {
      throw toOmniPersonaError(error, code, context);
    });
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /** Runs `op`; if the backend fails under it, moves to the next backend and runs it once more. */
  async #withFailover<T>(op: () => Promise<T>): Promise<T> {
    if (this.#lost) await this.#recover();
    try {
      await activateBackend(this.#backend);
      return await op();
    } catch (error) {
      // Our own errors are about the input or the runtime's state: another backend would not help.
      if (error instanceof OmniPersonaError) throw error;
      await this.#recover();
      await activateBackend(this.#backend);
      return await op();
    }
  }

  async #recover(): Promise<void> {
    this.#lost = false;
    try {
      this.#loaded?.model.dispose();
    } catch {
      // Its backend is broken; the weights come back from the snapshot.
    }
    this.#failed.add(this.#backend);
    forgetBackend(this.#backend);
    const { backend } = await selectBackend({ ...this.#settings, preference: 'auto', exclude: this.#failed });
    this.#backend = backend;
    this.#watch();
    if (this.#loaded) {
      const { config, snapshot, features } = this.#loaded;
      this.#loaded.model = RecommenderModel.create(config, snapshot, features);
    }
  }

  #watch(): void {
    const backend = this.#backend;
    watchDeviceLoss(backend, () => {
      if (this.#backend === backend) this.#lost = true;
    });
  }
}
