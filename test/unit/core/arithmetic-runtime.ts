import type {
  HistoryInput,
  ItemFeatures,
  ModelRuntime,
  TrainingExample,
  TrainOptions,
} from '../../../src/core/model/model-runtime.js';
import type { ModelConfig } from '../../../src/core/model/model-spec.js';
import { cloneWeights, type WeightSet } from '../../../src/core/model/weights.js';

/**
 * A model runtime in plain JavaScript that scores items by their dot product with the mean of the
 * history's item vectors (item plus category embedding) plus the item's bias: the real model's
 * tensors read the simplest way, so these tests check the personalizer's logic without TF.js (the ML
 * module has its own tests, and the browser tests run both).
 */
export class ArithmeticRuntime implements ModelRuntime {
  readonly backend = 'cpu' as const;
  trained: TrainingExample[][] = [];
  #weights: WeightSet = {};
  #config?: ModelConfig;
  #categories: ItemFeatures['categories'] = new Int32Array();

  async load(config: ModelConfig, weights: WeightSet, features: ItemFeatures) {
    this.#config = config;
    this.#weights = cloneWeights(weights);
    this.#categories = features.categories;
  }
  async weights() {
    return cloneWeights(this.#weights);
  }
  /** Each train() call's options. */
  trainedWith: TrainOptions[] = [];
  /** Raises each target's bias: by 0.02 with plain gradient steps (a federated contribution), 0.01 otherwise. */
  async train(examples: TrainingExample[], options: TrainOptions = {}) {
    this.trained.push(examples);
    this.trainedWith.push(options);
    const step = options.optimizer === 'sgd' ? 0.02 : 0.01;
    const bias = this.#weights.item_bias?.data;
    for (const example of examples) if (bias) bias[example.target] = (bias[example.target] ?? 0) + step;
    return { backend: this.backend, steps: 1, examples: examples.length, loss: 1, initialLoss: 2, milliseconds: 1 };
  }
  async score(history: HistoryInput) {
    const { items, dim } = this.#config as ModelConfig;
    const vector = (row: number) => {
      const out = new Float32Array(dim);
      const category = this.#categories[row] ?? 0;
      for (let d = 0; d < dim; d++) {
        out[d] =
          (this.#weights.item_embedding?.data[row * dim + d] ?? 0) +
          (this.#weights.category_embedding?.data[category * dim + d] ?? 0);
      }
      return out;
    };
    const user = new Float32Array(dim);
    history.items.forEach((row) => {
      const v = vector(row);
      for (let d = 0; d < dim; d++) user[d] = (user[d] ?? 0) + (v[d] ?? 0) / history.items.length;
    });
    return Float32Array.from({ length: items }, (_, row) => {
      const v = vector(row);
      let dot = this.#weights.item_bias?.data[row] ?? 0;
      for (let d = 0; d < dim; d++) dot += (user[d] ?? 0) * (v[d] ?? 0);
      return dot;
    });
  }
  async dispose() {}
}
