import type { ItemFeatures } from '../core/model/model-runtime.js';
import type { ModelConfig } from '../core/model/model-spec.js';

/** The model's shapes and item features for a data set, and the seed of its first weights. */
export interface ModelSetup {
  config: ModelConfig;
  features: ItemFeatures;
  seed: number;
}

/**
 * The public sets name items by id alone, so every item is in the "unknown" category (row 0, the
 * only row): the category embedding is then one vector shared by all items, and the model is the
 * plain item-embedding recommender the device runs for a shop without categories.
 */
export function modelSetup(items: number, dim: number, seed: number): ModelSetup {
  return { config: { items, categories: 1, dim }, features: { categories: new Int32Array(items) }, seed };
}
