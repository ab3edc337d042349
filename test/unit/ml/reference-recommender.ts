import type { HistoryInput, TrainingExample } from '../../../src/core/model/model-runtime.js';
import type { WeightSet } from '../../../src/core/model/weights.js';

/*
 * The model of src/core/model/model-spec.ts written again in plain float64 JavaScript, straight from
 * its TSDoc, with no TF.js: the yardstick for the TF.js scores, loss and hand-written gradients.
 */

/** A history's normalised weights over `items` rows: one row of the multi-hot matrix. */
export function historyRow(history: HistoryInput, items: number): Float64Array {
  const row = new Float64Array(items);
  const total = history.weights.reduce((sum, weight) => sum + weight, 0);
  if (total > 0) {
    for (const [k, item] of history.items.entries()) row[item] = (row[item] ?? 0) + (history.weights[k] ?? 0) / total;
  }
  return row;
}

export function referenceScores(weights: WeightSet, categories: Int32Array, history: HistoryInput): Float64Array {
  const get = (name: string) => (weights[name] as { data: Float32Array }).data;
  const [embedding, categoryEmbedding, bias, projection] = [
    get('item_embedding'),
    get('category_embedding'),
    get('item_bias'),
    get('user_projection'),
  ];
  const items = bias.length;
  const dim = embedding.length / items;
  const vector = (item: number, k: number) =>
    (embedding[item * dim + k] ?? 0) + (categoryEmbedding[(categories[item] ?? 0) * dim + k] ?? 0);
  const h = historyRow(history, items);
  const pooled = Array.from({ length: dim }, (_, k) => h.reduce((sum, w, item) => sum + w * vector(item, k), 0));
  const shopper = Array.from({ length: dim }, (_, k) =>
    pooled.reduce((sum, s, j) => sum + s * (projection[j * dim + k] ?? 0), 0),
  );
  return Float64Array.from({ length: items }, (_, item) =>
    shopper.reduce((sum, u, k) => sum + u * vector(item, k), bias[item] ?? 0),
  );
}

/** Cross-entropy of predicting `target` from `scores`. */
export function crossEntropy(scores: ArrayLike<number>, target: number): number {
  const values = Array.from(scores);
  const max = Math.max(...values);
  const logSumExp = max + Math.log(values.reduce((sum, x) => sum + Math.exp(x - max), 0));
  return logSumExp - (values[target] ?? Number.NaN);
}

export function referenceLoss(weights: WeightSet, categories: Int32Array, examples: TrainingExample[]): number {
  const total = examples.reduce(
    (sum, { history, target }) => sum + crossEntropy(referenceScores(weights, categories, history), target),
    0,
  );
  return total / examples.length;
}
