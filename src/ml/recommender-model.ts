import * as tf from '@tensorflow/tfjs-core';
import { OmniPersonaError } from '../core/errors.js';
import type { HistoryInput, ItemFeatures, TrainingExample } from '../core/model/model-runtime.js';
import { checkWeights, type ModelConfig, type modelSpec } from '../core/model/model-spec.js';
import type { Tensor32, WeightSet } from '../core/model/weights.js';
import {
  type ItemSide,
  itemSide,
  lossAndGradients,
  type RecommenderGradients,
  type RecommenderParams,
  scores,
  scoresWith,
} from './recommender-maths.js';

/** The spec's name of each trained tensor. Its order is fixed: Adam matches moments to gradients by position. */
const TENSOR_NAMES = {
  itemEmbedding: 'item_embedding',
  categoryEmbedding: 'category_embedding',
  itemBias: 'item_bias',
  userProjection: 'user_projection',
} as const satisfies Record<keyof RecommenderGradients, string>;

type Variables = Record<keyof RecommenderGradients, tf.Variable>;

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
  readonly #categories: tf.Tensor1D;
  /** V and Vᵀ under the current weights, built at the first score after a change. */
  #itemSide: ItemSide | undefined;

  private constructor(config: ModelConfig, variables: Variables, categories: tf.Tensor1D) {
    this.config = config;
    this.#variables = variables;
    this.#categories = categories;
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
      return new RecommenderModel({ ...config }, variables, tf.tensor1d(features.categories, 'int32'));
    } catch (error) {
      tf.dispose(created);
      throw error;
    }
  }

  async weights(): Promise<WeightSet> {
    const weights: WeightSet = {};
    for (const [key, name] of Object.entries(TENSOR_NAMES)) {
      const variable = this.#variables[key as keyof Variables];
      weights[name] = { shape: [...variable.shape], data: Float32Array.from(await variable.data()) };
    }
    return weights;
  }

  /** One score per item row. */
  score(history: HistoryInput): Promise<Float32Array> {
    return this.scoreMany([history]);
  }

  /**
   * Scores of several histories in one pass: row `r` of the result (`items` values from
   * `r * items`) belongs to `histories[r]`. Offline evaluation ranks every shopper of a data set;
   * one pass per history would repeat the item-side work (the category gather) for each.
   */
  async scoreMany(histories: readonly HistoryInput[]): Promise<Float32Array> {
    for (const history of histories) checkHistory(history, this.config.items);
    const params = this.#params();
    // Kept between calls: serving a widget refresh should not rebuild every item's vector.
    this.#itemSide ??= tf.tidy(() => {
      const side = itemSide(params);
      return { items: tf.keep(side.items), itemsTransposed: tf.keep(side.itemsTransposed) };
    });
    const side = this.#itemSide;
    const logits = tf.tidy(() => scoresWith(params, side, this.#historyMatrix(histories)));
    try {
      return Float32Array.from(await logits.data());
    } finally {
      logits.dispose();
    }
  }

  /** Mean cross-entropy of `batch` under the current weights, without training. */
  async loss(batch: readonly TrainingExample[]): Promise<number> {
    const loss = tf.tidy(() => {
      const logits = scores(this.#params(), this.#historyMatrix(batch.map((example) => example.history)));
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

  /** One Adam step on `batch` (checked by {@link checkExample}). Returns its mean cross-entropy before the step. */
  trainStep(optimizer: tf.Optimizer, batch: readonly TrainingExample[]): tf.Scalar {
    return tf.tidy(() => {
      const targets = tf.tensor1d(
        batch.map((example) => example.target),
        'int32',
      );
      const histories = this.#historyMatrix(batch.map((example) => example.history));
      const { loss, gradients } = lossAndGradients(this.#params(), histories, targets);
      this.#forgetItemSide();
      optimizer.applyGradients(
        Object.keys(TENSOR_NAMES).map((key) => ({
          name: this.#variables[key as keyof Variables].name,
          tensor: gradients[key as keyof Variables],
        })),
      );
      return loss;
    });
  }

  dispose(): void {
    this.#forgetItemSide();
    tf.dispose([...Object.values(this.#variables), this.#categories]);
  }

  /** The weights change (or go): the cached item side no longer holds. */
  #forgetItemSide(): void {
    if (!this.#itemSide) return;
    tf.dispose([this.#itemSide.items, this.#itemSide.itemsTransposed]);
    this.#itemSide = undefined;
  }

  #params(): RecommenderParams {
    const { itemEmbedding, categoryEmbedding, itemBias, userProjection } = this.#variables;
    return {
      itemEmbedding: itemEmbedding as tf.Tensor2D,
      categoryEmbedding: categoryEmbedding as tf.Tensor2D,
      itemBias: itemBias as tf.Tensor1D,
      userProjection: userProjection as tf.Tensor2D,
      categories: this.#categories,
    };
  }

  /** Histories as a dense [batch, items] matrix whose rows hold each history's normalised weights. */
  #historyMatrix(histories: readonly HistoryInput[]): tf.Tensor2D {
    const items = this.config.items;
    const data = new Float32Array(histories.length * items);
    histories.forEach((history, row) => {
      const total = history.weights.reduce((sum, weight) => sum + weight, 0);
      if (!(total > 0)) return;
      history.items.forEach((item, k) => {
        data[row * items + item] = (data[row * items + item] ?? 0) + (history.weights[k] ?? 0) / total;
      });
    });
    return tf.tensor2d(data, [histories.length, items]);
  }
}

function checkConfig(config: ModelConfig): string | undefined {
  const bad = (['items', 'categories', 'dim'] as const).find(
    (key) => !Number.isSafeInteger(config[key]) || config[key] < 1,
  );
  return bad && `config.${bad} should be a positive integer, received ${config[bad]}`;
}

function checkFeatures(features: ItemFeatures, config: ModelConfig): string | undefined {
  if (features.categories.length !== config.items) {
    return `expected ${config.items} item categories, received ${features.categories.length}`;
  }
  const bad = features.categories.findIndex((category) => category < 0 || category >= config.categories);
  return bad < 0 ? undefined : `item ${bad} has category ${features.categories[bad]}, not in [0, ${config.categories})`;
}

function checkHistory(history: HistoryInput, items: number): void {
  if (history.items.length !== history.weights.length) {
    throw new OmniPersonaError(
      'INVALID_PAYLOAD',
      `History has ${history.items.length} items but ${history.weights.length} weights`,
    );
  }
  const item = history.items.findIndex((row) => row < 0 || row >= items);
  if (item >= 0) {
    throw new OmniPersonaError('INVALID_PAYLOAD', `History item ${history.items[item]} is not a row in [0, ${items})`);
  }
  if (!history.weights.every((weight) => Number.isFinite(weight) && weight >= 0)) {
    throw new OmniPersonaError('INVALID_PAYLOAD', 'History weights should be finite and non-negative');
  }
}

/** @throws OmniPersonaError `INVALID_PAYLOAD` when an example does not fit a model of `items` rows. */
export function checkExample(example: TrainingExample, items: number): void {
  checkHistory(example.history, items);
  if (!Number.isInteger(example.target) || example.target < 0 || example.target >= items) {
    throw new OmniPersonaError('INVALID_PAYLOAD', `Training target ${example.target} is not a row in [0, ${items})`);
  }
}
