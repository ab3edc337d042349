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
  /** Embedding width. */
  dim: number;
}

interface TensorSpec {
  name: string;
  shape: number[];
  init: 'normal' | 'zeros' | 'identity';
  /** Standard deviation of the `normal` initialiser. */
  scale?: number;
}

/**
 * Names and shapes of the model's tensors.
 *
 * An item's vector is its own embedding plus its category's, so an item the model has never seen
 * starts from its category instead of from nothing. A shopper's vector is the weighted mean of the
 * vectors of the items in their history, projected; an item's score is its dot product with the
 * shopper's vector plus the item's bias (its popularity).
 */
export function modelSpec(config: ModelConfig): TensorSpec[] {
  const { items, categories, dim } = config;
  return [
    { name: 'item_embedding', shape: [items, dim], init: 'normal', scale: 0.05 },
    { name: 'category_embedding', shape: [categories, dim], init: 'normal', scale: 0.3 },
    { name: 'item_bias', shape: [items], init: 'zeros' },
    { name: 'user_projection', shape: [dim, dim], init: 'identity' },
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
    } else if (spec.init === 'identity') {
      const size = spec.shape[0] ?? 0;
      for (let i = 0; i < size; i++) data[i * size + i] = 1;
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
