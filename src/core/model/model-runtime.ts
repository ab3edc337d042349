import type { ModelConfig } from './model-spec.js';
import type { WeightSet } from './weights.js';

/** Compute backends, in the order the SDK prefers them on real hardware. */
export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';

/** `'auto'` picks the fastest backend that works here; a name forces that backend first. */
export type BackendPreference = 'auto' | BackendName;

/**
 * A shopper's history as the model reads it, oldest first (computed by `historyInput()` of
 * core/features/history): item rows, each step's signal row (its event kind and how long ago it
 * happened, `signalRow()`), and the shopper's profile features.
 */
export interface HistoryInput {
  items: Int32Array;
  signals: Int32Array;
  /** `PROFILE_INPUTS` values in [0, 1]; 0.5 each (unknown) when left out. */
  profile?: Float32Array;
}

/** One next-item example: what the shopper had done, and what they did next. */
export interface TrainingExample {
  history: HistoryInput;
  target: number;
}

export interface TrainOptions {
  /** Passes over the examples. @default 5 */
  epochs?: number;
  /**
   * `adam` adapts each weight's step; `sgd` steps along the gradient, so that updates from many
   * devices average into the gradient of all their events (a device's federated contribution,
   * {@link FEDERATED_LOCAL}). @default 'adam'
   */
  optimizer?: 'adam' | 'sgd';
  /** Step size. @default 0.002 */
  learningRate?: number;
  /**
   * Adam's ε, the floor of the step's denominator. A fresh Adam moves every weight with any gradient
   * by about the learning rate, however small its gradient; a larger ε keeps a short fine-tune from
   * shifting every item the full softmax touches faintly, so that it moves the rows the shopper's
   * events concern. @default 1e-7
   */
  adamEpsilon?: number;
  /** Stop after this many milliseconds even if epochs remain. @default 2000 */
  timeBudgetMs?: number;
  /** Dropout rate on the history and the hidden layer while training. @default 0.5 */
  dropout?: number;
  /**
   * Chance that each step of a history but its last is left out of an example, drawn anew at every
   * pass: the same shopper seen with some views missing, so that the model does not learn the
   * training histories by heart. @default 0
   */
  stepDropout?: number;
  /**
   * Weight λ of a contrastive term (CL4SRec, DuoRec) added to the cross-entropy: each example's
   * history is read a second time, with its own draw of `stepDropout` and of the dropout masks, and
   * InfoNCE over the batch pulls the two shopper vectors of one history together and apart from the
   * other histories' (those with the same next item excepted). Twice the encoder's work per step,
   * not the output layer's. 0 for none. @default 0
   */
  contrastiveWeight?: number;
  /** Temperature τ dividing the contrastive term's dot-product similarities. @default 1 */
  contrastiveTemperature?: number;
  /**
   * ε of label smoothing: the cross-entropy is taken against `1 − ε` on the next item plus `ε` spread
   * over every item, so that the scores of the items a shopper happened not to pick are not pushed
   * down without end. 0 for none. @default 0
   */
  labelSmoothing?: number;
  /**
   * Leave the items of each example's history, bar its next item, out of its softmax, as `for-you`
   * leaves seen items out of its ranking: the model is not taught to rank them below the rest.
   * @default false
   */
  excludeSeen?: boolean;
  /**
   * What the contrastive term pairs each history with: `'augmented'`, the same history read again;
   * `'sameNextItem'`, the history of another example (drawn anew at each pass) whose next item is the
   * same (DuoRec's supervised positive), or the history itself read again when no other has it.
   * @default 'augmented'
   */
  contrastivePositive?: 'augmented' | 'sameNextItem';
  /**
   * Strength of the pull toward the weights the call started from, on the shared tensors: a
   * fine-tune on one shopper's few events keeps the global model's knowledge. 0 for none. @default 0
   */
  stayNear?: number;
  /**
   * Share of the run's change that is kept: below 1, the weights end that share of the way from
   * where the run started to where its steps took them. A fine-tune on one shopper's few events
   * points the right way but goes too far; a share of it ranks their next items better than the
   * whole of it, or than none (measured by the evaluation's personalisation rows). A starting model
   * that has learnt nothing yet (a fresh server's, whose predictions are uniform) has nothing to
   * keep: the whole change stays. @default 1
   */
  keepShare?: number;
  /**
   * Seeds the shuffle and the dropout masks: the same starting weights, examples and seed give the
   * same weights on one backend, so two channels fine-tuning one shopper's log from one global
   * version agree. @default a new seed at each call
   */
  seed?: number;
}

/**
 * How a device fine-tunes the global model on one shopper's log: a few passes, gently, pulled
 * toward the global weights, with an Adam ε large enough that the step goes to the rows the
 * shopper's events concern rather than to every item the softmax touches; then only a share of the
 * change is kept, chosen on the evaluation's validation targets. The offline evaluation measures the
 * same settings (its personalisation mode).
 */
export const FINE_TUNE = {
  epochs: 5,
  learningRate: 0.005,
  stayNear: 0.1,
  adamEpsilon: 1e-3,
  keepShare: 0.25,
} as const satisfies TrainOptions;

/**
 * How a device computes its contribution to a federated round, apart from its personal fine-tune:
 * plain gradient steps from the global weights, without the pull (there is nothing to stay near yet)
 * and with one rate for every weight, so that the update is the gradient of the shopper's events and
 * averages, over many devices, into the gradient of all of theirs. The server's Adam turns that mean
 * into a step (`ServerAdam`, server/server-optimizer.ts); the offline evaluation's federated mode
 * simulates the same.
 */
export const FEDERATED_LOCAL = {
  optimizer: 'sgd',
  epochs: 1,
  learningRate: 0.1,
  dropout: 0.5,
} as const satisfies TrainOptions;

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

/** Side features of every item row, fixed per catalog; each array has `config.items` entries, 0 = unknown. */
export interface ItemFeatures {
  categories: Int32Array;
  brands: Int32Array;
  /** Price band: 1–5 by price quintile within the item's top-level category. */
  priceBands: Int32Array;
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
