import type { ItemFeatures } from '../core/model/model-runtime.js';
import type { ModelConfig } from '../core/model/model-spec.js';

/** The model's shapes and item features for a data set, and the seed of its first weights. */
export interface ModelSetup {
  config: ModelConfig;
  features: ItemFeatures;
  seed: number;
}

/**
 * The public sets name items by id alone, so every item's category, brand and price band are
 * "unknown" (row 0, the only row): the side tables then add one shared vector to every item, and
 * the model reads item identities and their order only.
 */
export function modelSetup(items: number, dim: number, seed: number): ModelSetup {
  const unknown = () => new Int32Array(items);
  return {
    config: { items, categories: 1, brands: 1, dim },
    features: { categories: unknown(), brands: unknown(), priceBands: unknown() },
    seed,
  };
}
