import type { ModelConfig } from './model-spec.js';
import type { WeightSet } from './weights.js';

/** Compute backends, in the order the SDK prefers them on real hardware. */
export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';

/** `'auto'` picks the fastest backend that works here; a name forces that backend first. */
export type BackendPreference = 'auto' | BackendName;

/**
 * A shopper's history as the model reads it: item rows and how much each counts
 * (event type and recency, computed by {@link historyInput}).
 */
export interface HistoryInput {
  items: Int32Array;
  weights: Float32Array;
}

/** One next-item example: what the shopper had done, and what they did next. */
export interface TrainingExample {
  history: HistoryInput;
  target: number;
}

export interface TrainOptions {
  /** Passes over the examples. @default 5 */
  epochs?: number;
  /** @default 0.05 */
  learningRate?: number;
  /** Stop after this many milliseconds even if epochs remain. @default 2000 */
  timeBudgetMs?: number;
}

export interface TrainReport {
  backend: BackendName;
  steps: number;
  examples: number;
  /** Mean cross-entropy of the last step. */
  loss: number;
  /** Mean cross-entropy before the first step, for comparison. */
  initialLoss: number;
  milliseconds: number;
}

/** Side features of every item row, fixed per catalog. */
export interface ItemFeatures {
  /** Category row of each item (0 = unknown), length = `config.items`. */
  categories: Int32Array;
}

/**
 * The model as the rest of the SDK sees it. The ML module implements it over TF.js; the core and the
 * browser adapters only ever talk to this interface, so the model can run inline or in a worker.
 */
export interface ModelRuntime {
  readonly backend: BackendName;
  /** Loads weights (a global model, or a restored personal one) for the given shapes and item features. */
  load(config: ModelConfig, weights: WeightSet, features: ItemFeatures): Promise<void>;
  weights(): Promise<WeightSet>;
  train(examples: TrainingExample[], options?: TrainOptions): Promise<TrainReport>;
  /** One score per item row for the shopper's history; higher is more relevant. */
  score(history: HistoryInput): Promise<Float32Array>;
  dispose(): Promise<void>;
}
