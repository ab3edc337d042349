import type { HistoryInput, ItemFeatures, TrainingExample } from '../../../src/core/model/model-runtime.js';
import { HISTORY_LENGTH, PROFILE_INPUTS } from '../../../src/core/model/model-spec.js';

/*
 * The model of src/core/model/model-spec.ts written again in plain float64 JavaScript, straight from
 * the maths in the header of src/ml/recommender-maths.ts, with no TF.js and one history at a time:
 * the yardstick for the TF.js scores, loss and hand-written gradients.
 */

/** Named tensors by spec name; float32 weights or float64 copies of them. */
export type ReferenceWeights = Readonly<Record<string, { readonly data: ArrayLike<number> }>>;

/** One history's dropout masks: `steps` is `[HISTORY_LENGTH, D]` row-major, `hidden` is `[D]`. */
export interface ReferenceDropout {
  steps: ArrayLike<number>;
  hidden: ArrayLike<number>;
}

/** Neutral profile features, as the model reads a history without a profile. */
const UNKNOWN_PROFILE = 0.5;

export function referenceScores(
  weights: ReferenceWeights,
  features: ItemFeatures,
  history: HistoryInput,
  dropout?: ReferenceDropout,
): Float64Array {
  const { vectors, shopper } = referenceForward(weights, features, history, dropout);
  const bias = weights.item_bias?.data ?? [];
  return Float64Array.from(vectors, (vector, item) => dot(shopper, vector) + (bias[item] as number));
}

/** The shopper vector u of `history`. */
export function referenceShopper(
  weights: ReferenceWeights,
  features: ItemFeatures,
  history: HistoryInput,
  dropout?: ReferenceDropout,
): Float64Array {
  return referenceForward(weights, features, history, dropout).shopper;
}

function referenceForward(
  weights: ReferenceWeights,
  features: ItemFeatures,
  history: HistoryInput,
  dropout?: ReferenceDropout,
): { vectors: Float64Array[]; shopper: Float64Array } {
  const get = (name: string) => {
    const tensor = weights[name];
    if (!tensor) throw new Error(`reference: tensor "${name}" is missing`);
    return tensor.data;
  };
  const bias = get('item_bias');
  const items = bias.length;
  const dim = get('personal_vector').length;
  const row = (name: string, index: number) =>
    Float64Array.from({ length: dim }, (_, k) => get(name)[index * dim + k] as number);

  // V: an item's own vector plus those of its category, brand and price band.
  const vectors = Array.from({ length: items }, (_, item) =>
    sum(
      row('item_embedding', item),
      row('category_embedding', features.categories[item] as number),
      row('brand_embedding', features.brands[item] as number),
      row('price_embedding', features.priceBands[item] as number),
    ),
  );

  // H: the last HISTORY_LENGTH steps, right-aligned; padding steps are zero and take no attention.
  const length = Math.min(history.items.length, HISTORY_LENGTH);
  const from = history.items.length - length;
  const first = HISTORY_LENGTH - length;
  const steps = Array.from({ length: HISTORY_LENGTH }, (_, position) => {
    if (position < first) return new Float64Array(dim);
    const k = from + position - first;
    const step = sum(
      vectors[history.items[k] as number] as Float64Array,
      row('signal_embedding', history.signals[k] as number),
      row('position_embedding', position),
    );
    return dropout ? step.map((value, j) => value * (dropout.steps[position * dim + j] as number)) : step;
  });
  const last = steps[HISTORY_LENGTH - 1] as Float64Array;

  // Attention of the last step's query over the real steps' keys.
  const query = times(last, get('query_weights'), dim);
  const real = steps.slice(first);
  const affinities = real.map((step) => dot(times(step, get('key_weights'), dim), query) / Math.sqrt(dim));
  const attention = softmax(affinities);
  const summary = new Float64Array(dim);
  real.forEach((step, p) => {
    for (let j = 0; j < dim; j++) summary[j] = (summary[j] as number) + (attention[p] as number) * (step[j] as number);
  });

  const joined = Float64Array.from([...summary, ...last]);
  const profile = history.profile ?? new Float32Array(PROFILE_INPUTS).fill(UNKNOWN_PROFILE);
  const base = sum(
    times(joined, get('output_weights'), dim),
    times(profile, get('profile_weights'), dim),
    row('personal_vector', 0),
  );
  const activated = times(base, get('hidden_weights'), dim).map(
    (value, j) => Math.max(0, value) * (dropout ? (dropout.hidden[j] as number) : 1),
  );
  const shopper = sum(base, times(activated, get('hidden_output_weights'), dim));
  return { vectors, shopper };
}

/** Cross-entropy of predicting `target` from `scores`. */
export function crossEntropy(scores: ArrayLike<number>, target: number): number {
  const values = Array.from(scores);
  const max = Math.max(...values);
  const logSumExp = max + Math.log(values.reduce((total, x) => total + Math.exp(x - max), 0));
  return logSumExp - (values[target] ?? Number.NaN);
}

/** Mean cross-entropy over `examples`; `dropout[i]`, when given, masks example i. */
export function referenceLoss(
  weights: ReferenceWeights,
  features: ItemFeatures,
  examples: readonly TrainingExample[],
  dropout?: readonly ReferenceDropout[],
): number {
  const total = examples.reduce(
    (loss, { history, target }, i) =>
      loss + crossEntropy(referenceScores(weights, features, history, dropout?.[i]), target),
    0,
  );
  return total / examples.length;
}

/**
 * The contrastive term, straight from its definition: with S[i][j] = u_i · u′_j / τ over the shoppers
 * of `histories` (u) and of `views` (u′), the mean of −log softmax(S[i, :])[i] and of
 * −log softmax(S[:, j])[j], where a pair with the same target (other than i = j) is left out of the
 * softmax altogether.
 */
export function referenceContrastive(
  weights: ReferenceWeights,
  features: ItemFeatures,
  examples: readonly TrainingExample[],
  views: readonly HistoryInput[],
  temperature: number,
  dropout?: { examples: readonly ReferenceDropout[]; views: readonly ReferenceDropout[] },
): number {
  const first = examples.map(({ history }, i) => referenceShopper(weights, features, history, dropout?.examples[i]));
  const second = views.map((view, j) => referenceShopper(weights, features, view, dropout?.views[j]));
  const counted = (i: number, j: number) => i === j || examples[i]?.target !== examples[j]?.target;
  let total = 0;
  for (let i = 0; i < examples.length; i++) {
    const row: number[] = [];
    const column: number[] = [];
    for (let j = 0; j < examples.length; j++) {
      if (!counted(i, j)) continue;
      row.push(dot(first[i] as Float64Array, second[j] as Float64Array) / temperature);
      column.push(dot(first[j] as Float64Array, second[i] as Float64Array) / temperature);
    }
    const own = dot(first[i] as Float64Array, second[i] as Float64Array) / temperature;
    total += logSumExp(row) - own + logSumExp(column) - own;
  }
  return total / (2 * examples.length);
}

function logSumExp(values: number[]): number {
  const max = Math.max(...values);
  return max + Math.log(values.reduce((sum, x) => sum + Math.exp(x - max), 0));
}

/** The row vector `x` times the row-major matrix of `x.length` rows and `columns` columns. */
function times(x: ArrayLike<number>, matrix: ArrayLike<number>, columns: number): Float64Array {
  const result = new Float64Array(columns);
  for (let i = 0; i < x.length; i++) {
    for (let j = 0; j < columns; j++) {
      result[j] = (result[j] as number) + (x[i] as number) * (matrix[i * columns + j] as number);
    }
  }
  return result;
}

function sum(...vectors: Float64Array[]): Float64Array {
  const first = vectors[0] as Float64Array;
  return first.map((_, j) => vectors.reduce((total, vector) => total + (vector[j] as number), 0));
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let total = 0;
  for (let j = 0; j < a.length; j++) total += (a[j] as number) * (b[j] as number);
  return total;
}

function softmax(values: number[]): number[] {
  const max = Math.max(...values);
  const exps = values.map((x) => Math.exp(x - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((x) => x / total);
}
