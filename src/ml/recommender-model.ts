import * as tf from '@tensorflow/tfjs-core';
import { OmniPersonaError } from '../core/errors.js';
import type { HistoryInput, ItemFeatures, TrainingExample } from '../core/model/model-runtime.js';
import { checkWeights, type ModelConfig, modelSpec } from '../core/model/model-spec.js';
import type { Tensor32, WeightSet } from '../core/model/weights.js';
import { checkConfig, checkExample, checkFeatures, checkHistory, sequenceBatch } from './model-inputs.js';
import {
  type ContrastiveView,
  dropoutMasks,
  type ItemSide,
  itemSide,
  lossAndGradients,
  type RecommenderParams,
  type RecommenderWeights,
  type SequenceBatch,
  scores,
} from './recommender-maths.js';

/** The spec's name of each trained tensor. Its order is fixed: Adam matches moments to gradients by position. */
export const TENSOR_NAMES = {
  itemEmbedding: 'item_embedding',
  categoryEmbedding: 'category_embedding',
  brandEmbedding: 'brand_embedding',
  priceEmbedding: 'price_embedding',
  itemBias: 'item_bias',
  positionEmbedding: 'position_embedding',
  signalEmbedding: 'signal_embedding',
  queryWeights: 'query_weights',
  keyWeights: 'key_weights',
  outputWeights: 'output_weights',
  hiddenWeights: 'hidden_weights',
  hiddenOutputWeights: 'hidden_output_weights',
  profileWeights: 'profile_weights',
  personalVector: 'personal_vector',
} as const satisfies Record<keyof RecommenderWeights, string>;

export type TensorKey = keyof RecommenderWeights;

/** The keys of the tensors shared through federated learning (the rest is the shopper's own). */
export const GLOBAL_KEYS: readonly TensorKey[] = (Object.keys(TENSOR_NAMES) as TensorKey[]).filter(
  (key) =>
    modelSpec({ items: 1, categories: 1, brands: 1, dim: 1 }).find((spec) => spec.name === TENSOR_NAMES[key])?.global,
);

type Variables = Record<TensorKey, tf.Variable>;

/** Each item's side-feature rows, as int32 tensors. */
type FeatureRows = Pick<RecommenderParams, 'categories' | 'brands' | 'priceBands'>;

/** What one training step is told besides its batch. */
export interface StepOptions {
  /** Dropout rate on the history and the hidden layer; 0 for none. */
  dropout: number;
  /** Seed of the step's dropout masks. */
  seed: number;
  /**
   * Weights to stay near: adds `strength · (w − anchor)` to each shared tensor's gradient (an L2
   * pull toward the global model, so that a fine-tune on a few events keeps what the model knew).
   */
  anchor?: { tensors: Partial<Record<TensorKey, tf.Tensor>>; strength: number };
  /**
   * A contrastive term (`ContrastiveView` of recommender-maths): `views` holds a second view of each
   * example's history, in the batch's order, read under dropout masks of their own.
   */
  contrastive?: { views: readonly HistoryInput[]; weight: number; temperature: number };
  /** ε of label smoothing (`LossOptions.labelSmoothing` of recommender-maths); 0 or omitted for none. */
  labelSmoothing?: number;
  /** Histories whose items (bar each target) are left out of the examples' softmax (`LossOptions.seen`), in the batch's order. */
  seen?: readonly HistoryInput[];
  /**
   * A trained model whose predictions for `histories` (in the batch's order) make `weight` of each
   * example's target (`LossOptions.teacher`).
   */
  teacher?: { model: Teacher; histories: readonly HistoryInput[]; weight: number };
}

/**
 * What knowledge distillation reads from a trained model: its predicted distribution over the same
 * items. A {@link RecommenderModel}, or several averaged.
 */
export interface Teacher {
  readonly config: Pick<ModelConfig, 'items'>;
  /** `[histories, items]`, each row summing to 1; the caller owns the tensor. */
  predictions(histories: readonly HistoryInput[]): tf.Tensor2D;
}

/**
 * The recommender of {@link modelSpec} over TF.js variables, on whichever backend is active.
 * Knows nothing about backends: the runtime picks one before it creates the model.
 *
 * Variables are not registered under their spec names, so that several models (or a model rebuilt
 * after a backend failure) never collide in TF.js' global variable registry.
 */
export class RecommenderModel {
  readonly config: ModelConfig;
  readonly #variables: Variables;
  readonly #features: FeatureRows;
  /** V and Vᵀ under the current weights, built at the first score after a change. */
  #itemSide: ItemSide | undefined;

  private constructor(config: ModelConfig, variables: Variables, features: FeatureRows) {
    this.config = config;
    this.#variables = variables;
    this.#features = features;
  }

  /** @throws OmniPersonaError `INVALID_PAYLOAD` when the weights or features do not fit `config`. */
  static create(config: ModelConfig, weights: WeightSet, features: ItemFeatures): RecommenderModel {
    const problem = checkConfig(config) ?? checkWeights(weights, config) ?? checkFeatures(features, config);
    if (problem) throw new OmniPersonaError('INVALID_PAYLOAD', `Model weights do not fit the model: ${problem}`);
    const created: tf.Tensor[] = [];
    try {
      const variables = Object.fromEntries(
        Object.entries(TENSOR_NAMES).map(([key, name]) => {
          const { data, shape } = weights[name] as Tensor32;
          const variable = tf.tidy(() => tf.variable(tf.tensor(data, shape, 'float32'), true));
          created.push(variable);
          return [key, variable];
        }),
      ) as Variables;
      const rows = (values: Int32Array) => {
        const tensor = tf.tensor1d(values, 'int32');
        created.push(tensor);
        return tensor;
      };
      return new RecommenderModel({ ...config }, variables, {
        categories: rows(features.categories),
        brands: rows(features.brands),
        priceBands: rows(features.priceBands),
      });
    } catch (error) {
      tf.dispose(created);
      throw error;
    }
  }

  /**
   * Overwrites every tensor with `weights` (the same shapes): a simulation of many devices reuses one
   * model instead of building one per device.
   * @throws OmniPersonaError `INVALID_PAYLOAD` when the weights do not fit `config`.
   */
  setWeights(weights: WeightSet): void {
    const problem = checkWeights(weights, this.config);
    if (problem) throw new OmniPersonaError('INVALID_PAYLOAD', `Model weights do not fit the model: ${problem}`);
    this.#forgetItemSide();
    for (const [key, name] of Object.entries(TENSOR_NAMES)) {
      const { data, shape } = weights[name] as Tensor32;
      tf.tidy(() => this.#variables[key as TensorKey].assign(tf.tensor(data, shape, 'float32')));
    }
  }

  async weights(): Promise<WeightSet> {
    const weights: WeightSet = {};
    for (const [key, name] of Object.entries(TENSOR_NAMES)) {
      const variable = this.#variables[key as TensorKey];
      weights[name] = { shape: [...variable.shape], data: Float32Array.from(await variable.data()) };
    }
    return weights;
  }

  /**
   * Copies of the shared tensors as they are now, for {@link StepOptions.anchor}, or of every tensor
   * with `'all'`. The caller disposes them.
   */
  snapshot(which: 'shared' | 'all' = 'shared'): Partial<Record<TensorKey, tf.Tensor>> {
    const keys = which === 'all' ? (Object.keys(TENSOR_NAMES) as TensorKey[]) : GLOBAL_KEYS;
    return Object.fromEntries(keys.map((key) => [key, tf.clone(this.#variables[key])]));
  }

  /** Moves each tensor in `start` back toward it, keeping `share` of its change since: w = start + share · (w − start). */
  keepShare(start: Partial<Record<TensorKey, tf.Tensor>>, share: number): void {
    this.#forgetItemSide();
    for (const [key, from] of Object.entries(start) as Array<[TensorKey, tf.Tensor]>) {
      const variable = this.#variables[key];
      tf.tidy(() => variable.assign(tf.add(from, tf.mul(tf.sub(variable, from), share))));
    }
  }

  /**
   * Moves each tensor in `average` toward the current weights, `a ← decay · a + (1 − decay) · w`,
   * replacing (and disposing) the tensors it held.
   */
  moveAverage(average: Partial<Record<TensorKey, tf.Tensor>>, decay: number): void {
    for (const [key, value] of Object.entries(average) as Array<[TensorKey, tf.Tensor]>) {
      average[key] = tf.tidy(() => tf.add(tf.mul(value, decay), tf.mul(this.#variables[key], 1 - decay)));
      value.dispose();
    }
  }

  /** One score per item row. */
  score(history: HistoryInput): Promise<Float32Array> {
    return this.scoreMany([history]);
  }

  /**
   * Scores of several histories in one pass: row `r` of the result (`items` values from
   * `r * items`) belongs to `histories[r]`. Offline evaluation ranks every shopper of a data set;
   * one pass per history would repeat the item-side work for each.
   */
  async scoreMany(histories: readonly HistoryInput[]): Promise<Float32Array> {
    for (const history of histories) checkHistory(history, this.config.items);
    const side = this.#cachedItemSide();
    const logits = tf.tidy(() => scores(this.#params(), sequenceBatch(histories), side));
    try {
      return Float32Array.from(await logits.data());
    } finally {
      logits.dispose();
    }
  }

  /**
   * The predicted distribution over the items for each history, without dropout: `[histories, items]`,
   * each row summing to 1. For use inside `tf.tidy`; the caller owns the tensor.
   */
  predictions(histories: readonly HistoryInput[]): tf.Tensor2D {
    for (const history of histories) checkHistory(history, this.config.items);
    const side = this.#cachedItemSide();
    return tf.tidy(() => tf.softmax(scores(this.#params(), sequenceBatch(histories), side)));
  }

  /** Mean cross-entropy of `batch` under the current weights, without training or dropout. */
  async loss(batch: readonly TrainingExample[]): Promise<number> {
    const loss = tf.tidy(() => {
      const logits = scores(this.#params(), sequenceBatch(batch.map((example) => example.history)));
      const targets = tf.oneHot(
        tf.tensor1d(
          batch.map((example) => example.target),
          'int32',
        ),
        this.config.items,
      );
      return tf.mean(tf.sub(tf.logSumExp(logits, 1), tf.sum(tf.mul(logits, targets), 1)));
    });
    try {
      return (await loss.data())[0] as number;
    } finally {
      loss.dispose();
    }
  }

  /**
   * Mean entropy, in nats, of the model's predicted next-item distribution for each history, without
   * dropout: the log of the item count for a model that has learnt nothing (every item alike), lower
   * as it learns to tell items apart, whether or not it is right for these histories.
   */
  async predictionEntropy(histories: readonly HistoryInput[]): Promise<number> {
    for (const history of histories) checkHistory(history, this.config.items);
    const side = this.#cachedItemSide();
    const entropy = tf.tidy(() => {
      const logits = scores(this.#params(), sequenceBatch(histories), side);
      const probabilities = tf.softmax(logits);
      // H = logsumexp(L) − Σ p · L
      return tf.mean(tf.sub(tf.logSumExp(logits, 1), tf.sum(tf.mul(probabilities, logits), 1)));
    });
    try {
      return (await entropy.data())[0] as number;
    } finally {
      entropy.dispose();
    }
  }

  /**
   * One Adam step on `batch` (checked by {@link checkExample}). Returns its loss before the step: the
   * mean cross-entropy, plus the weighted contrastive term when `options.contrastive` adds one.
   */
  trainStep(optimizer: tf.Optimizer, batch: readonly TrainingExample[], options: StepOptions): tf.Scalar {
    return tf.tidy(() => {
      const { loss, gradients } = this.#lossAndGradients(batch, options);
      this.#forgetItemSide();
      const anchor = options.anchor;
      optimizer.applyGradients(
        (Object.keys(TENSOR_NAMES) as TensorKey[]).map((key) => {
          const variable = this.#variables[key];
          const fixed = anchor?.tensors[key];
          const gradient = fixed
            ? tf.add(gradients[key], tf.mul(tf.sub(variable, fixed), anchor.strength))
            : gradients[key];
          return { name: variable.name, tensor: gradient };
        }),
      );
      return loss;
    });
  }

  /**
   * The gradients of `batch`'s mean cross-entropy at the current weights, under `options`' dropout,
   * and that loss, without changing any weight. A simulation of many devices that all take a plain
   * gradient step from the same global weights computes each device's step from one model, with the
   * item vectors built once for all of them. The caller disposes the tensors.
   * @throws OmniPersonaError `INVALID_PAYLOAD` when an example does not fit the model.
   */
  gradients(
    batch: readonly TrainingExample[],
    options: Omit<StepOptions, 'anchor'>,
  ): { loss: tf.Scalar; gradients: Record<TensorKey, tf.Tensor> } {
    for (const example of batch) checkExample(example, this.config.items);
    const side = this.#cachedItemSide();
    return tf.tidy(() => this.#lossAndGradients(batch, options, side));
  }

  dispose(): void {
    this.#forgetItemSide();
    tf.dispose([...Object.values(this.#variables), ...Object.values(this.#features)]);
  }

  #lossAndGradients(batch: readonly TrainingExample[], options: Omit<StepOptions, 'anchor'>, side?: ItemSide) {
    const targets = tf.tensor1d(
      batch.map((example) => example.target),
      'int32',
    );
    const input = sequenceBatch(batch.map((example) => example.history));
    const masks = (histories: SequenceBatch, seed: number) =>
      options.dropout > 0
        ? dropoutMasks(batch.length, histories.mask.shape[1], this.config.dim, options.dropout, seed)
        : undefined;
    const contrastive = options.contrastive;
    if (contrastive && contrastive.views.length !== batch.length) {
      throw new OmniPersonaError(
        'INVALID_PAYLOAD',
        `Expected a contrastive view of each of the ${batch.length} examples, received ${contrastive.views.length}`,
      );
    }
    let contrast: ContrastiveView | undefined;
    if (contrastive) {
      const views = sequenceBatch(contrastive.views);
      contrast = {
        batch: views,
        // Negative: a seed that no step's own masks use.
        dropout: masks(views, -1 - options.seed),
        weight: contrastive.weight,
        temperature: contrastive.temperature,
      };
    }
    return lossAndGradients(this.#params(), input, targets, {
      dropout: masks(input, options.seed),
      side,
      contrast,
      labelSmoothing: options.labelSmoothing,
      seen: options.seen && sequenceBatch(options.seen),
      teacher: options.teacher && {
        probabilities: options.teacher.model.predictions(options.teacher.histories),
        weight: options.teacher.weight,
      },
    });
  }

  /** V and Vᵀ under the current weights, kept until they change: serving a widget refresh should not rebuild every item's vector. */
  #cachedItemSide(): ItemSide {
    this.#itemSide ??= tf.tidy(() => {
      const side = itemSide(this.#params());
      return { items: tf.keep(side.items), itemsTransposed: tf.keep(side.itemsTransposed) };
    });
    return this.#itemSide;
  }

  /** The weights change (or go): the cached item side no longer holds. */
  #forgetItemSide(): void {
    if (!this.#itemSide) return;
    tf.dispose([this.#itemSide.items, this.#itemSide.itemsTransposed]);
    this.#itemSide = undefined;
  }

  #params(): RecommenderParams {
    const variables = this.#variables as unknown as RecommenderWeights;
    return { ...variables, ...this.#features };
  }
}
