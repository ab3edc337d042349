import { gaussian, seededRandom } from '../random.js';
import { tensorSize, type WeightSet } from './weights.js';

/**
 * The sizes that fix a model's tensor shapes. The server publishes it with every global model;
 * devices and the server agree on shapes through it alone.
 */
export interface ModelConfig {
  /** Rows of the item table: the catalog size when the model was built. */
  items: number;
  /** Rows of the category table, including the "unknown" row 0. */
  categories: number;
  /** Rows of the brand table, including the "unknown" row 0. */
  brands: number;
  /** Embedding width. */
  dim: number;
}

/** Most recent item steps the model reads. */
export const HISTORY_LENGTH = 50;

/** Price bands: 0 unknown, then quintiles of price within the item's top-level category. */
export const PRICE_BANDS = 6;

/** What a step was, for the model: views and clicks, carts, purchases, ratings. */
export const SIGNAL_KINDS = ['view', 'cart', 'purchase', 'rate'] as const;
export type SignalKind = (typeof SIGNAL_KINDS)[number];

/** How long before the moment of scoring a step happened: under an hour, a day, a week, 30 days, or longer. */
export const RECENCY_LIMITS_MS = [3_600_000, 86_400_000, 7 * 86_400_000, 30 * 86_400_000] as const;

/** Rows of the signal table: one per kind and recency bucket. */
export const SIGNALS = SIGNAL_KINDS.length * (RECENCY_LIMITS_MS.length + 1);

/** The signal row of a step of `kind` that happened `age` milliseconds before scoring. */
export function signalRow(kind: SignalKind, age: number): number {
  const bucket = RECENCY_LIMITS_MS.findIndex((limit) => age < limit);
  return SIGNAL_KINDS.indexOf(kind) * (RECENCY_LIMITS_MS.length + 1) + (bucket < 0 ? RECENCY_LIMITS_MS.length : bucket);
}

/** Length of the profile input: `profileFeatures()` of core/features/profile. */
export const PROFILE_INPUTS = 10;

interface TensorSpec {
  name: string;
  shape: number[];
  init: 'normal' | 'zeros';
  /** Standard deviation of the `normal` initialiser. */
  scale?: number;
  /**
   * Part of the shared model, averaged by federated learning; `false` for the shopper's own part,
   * which stays on their devices.
   */
  global: boolean;
}

/**
 * Names and shapes of the model's tensors (src/ml/recommender-maths.ts writes out the maths).
 *
 * An item's vector is its own embedding plus those of its category, brand and price band, so an
 * item the model has never seen starts from its side features instead of from nothing. A shopper's
 * history is read as item vectors plus a signal (the event's kind and recency) and a position; the
 * most recent step attends over the others, and the result, with the profile features and the
 * shopper's personal vector, passes a residual hidden layer into the shopper's vector. An item's
 * score is its dot product with that vector plus the item's bias (its popularity).
 */
export function modelSpec(config: ModelConfig): TensorSpec[] {
  const { items, categories, brands, dim } = config;
  const square = 1 / Math.sqrt(dim);
  return [
    { name: 'item_embedding', shape: [items, dim], init: 'normal', scale: 0.05, global: true },
    { name: 'category_embedding', shape: [categories, dim], init: 'normal', scale: 0.05, global: true },
    { name: 'brand_embedding', shape: [brands, dim], init: 'normal', scale: 0.05, global: true },
    { name: 'price_embedding', shape: [PRICE_BANDS, dim], init: 'normal', scale: 0.05, global: true },
    { name: 'item_bias', shape: [items], init: 'zeros', global: true },
    { name: 'position_embedding', shape: [HISTORY_LENGTH, dim], init: 'normal', scale: 0.05, global: true },
    { name: 'signal_embedding', shape: [SIGNALS, dim], init: 'normal', scale: 0.05, global: true },
    { name: 'query_weights', shape: [dim, dim], init: 'normal', scale: square, global: true },
    { name: 'key_weights', shape: [dim, dim], init: 'normal', scale: square, global: true },
    { name: 'output_weights', shape: [2 * dim, dim], init: 'normal', scale: 1 / Math.sqrt(2 * dim), global: true },
    { name: 'hidden_weights', shape: [dim, dim], init: 'normal', scale: square, global: true },
    { name: 'hidden_output_weights', shape: [dim, dim], init: 'normal', scale: 0.01 * square, global: true },
    { name: 'profile_weights', shape: [PROFILE_INPUTS, dim], init: 'zeros', global: true },
    { name: 'personal_vector', shape: [dim], init: 'zeros', global: false },
  ];
}

/** Fresh weights for `config`, reproducible from `seed`. Used by the server before any training. */
export function initialWeights(config: ModelConfig, seed = 1): WeightSet {
  const random = seededRandom(seed);
  const weights: WeightSet = {};
  for (const spec of modelSpec(config)) {
    const data = new Float32Array(tensorSize(spec.shape));
    if (spec.init === 'normal') {
      for (let i = 0; i < data.length; i++) data[i] = gaussian(random) * (spec.scale ?? 0.05);
    }
    weights[spec.name] = { shape: spec.shape, data };
  }
  return weights;
}

/** Checks that `weights` has exactly the tensors of `config`, with finite values. Returns a problem, or undefined. */
export function checkWeights(weights: WeightSet, config: ModelConfig): string | undefined {
  const specs = modelSpec(config);
  if (Object.keys(weights).length !== specs.length) {
    return `expected ${specs.length} tensors, received ${Object.keys(weights).length}`;
  }
  for (const spec of specs) {
    const tensor = weights[spec.name];
    if (!tensor) return `tensor "${spec.name}" is missing`;
    if (tensor.shape.join('x') !== spec.shape.join('x')) {
      return `tensor "${spec.name}" should have shape [${spec.shape}], received [${tensor.shape}]`;
    }
    if (!tensor.data.every(Number.isFinite)) return `tensor "${spec.name}" holds a non-finite value`;
  }
  return undefined;
}

/**
 * `weights` with `items` item rows, for a catalog that grew on the device after the model was built.
 * An added row has no embedding of its own, so its category, brand and price band alone place the
 * item, and the mean item bias; rows beyond `items` are cut off. Other tensors are shared, not copied.
 */
export function withItemRows(weights: WeightSet, items: number): WeightSet {
  const grown: WeightSet = { ...weights };
  const embedding = weights.item_embedding;
  if (embedding) {
    const dim = embedding.shape[1] ?? 0;
    const data = new Float32Array(items * dim);
    data.set(embedding.data.subarray(0, items * dim));
    grown.item_embedding = { shape: [items, dim], data };
  }
  const bias = weights.item_bias;
  if (bias) {
    const data = new Float32Array(items);
    const kept = bias.data.subarray(0, items);
    data.set(kept);
    const mean = bias.data.length === 0 ? 0 : bias.data.reduce((sum, value) => sum + value, 0) / bias.data.length;
    data.fill(mean, kept.length);
    grown.item_bias = { shape: [items], data };
  }
  return grown;
}

/**
 * `weights` with the shopper's own tensors (those not `global` in {@link modelSpec}) zeroed: what a
 * device may contribute to the shared model. Their personal part never leaves in an update.
 */
export function sharedPart(weights: WeightSet, config: ModelConfig): WeightSet {
  const personal = new Set(
    modelSpec(config)
      .filter((spec) => !spec.global)
      .map((spec) => spec.name),
  );
  return Object.fromEntries(
    Object.entries(weights).map(([name, tensor]) => [
      name,
      personal.has(name) ? { shape: [...tensor.shape], data: new Float32Array(tensor.data.length) } : tensor,
    ]),
  );
}
