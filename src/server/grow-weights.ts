import { OmniPersonaError } from '../core/errors.js';
import { initialWeights, type ModelConfig } from '../core/model/model-spec.js';
import type { WeightSet } from '../core/model/weights.js';

/**
 * Weights for a larger `config` that keep every row of `weights` and initialise the new rows.
 * Rows are the leading axis and the catalog only appends, so a kept row still means the same item
 * or category.
 * @throws OmniPersonaError `INVALID_PAYLOAD` when a tensor would shrink or change its row width.
 */
export function growWeights(weights: WeightSet, config: ModelConfig, seed = 1): WeightSet {
  const grown = initialWeights(config, seed);
  for (const [name, target] of Object.entries(grown)) {
    const source = weights[name];
    if (!source) continue;
    const sameRowShape = source.shape.slice(1).join('x') === target.shape.slice(1).join('x');
    if (!sameRowShape || source.data.length > target.data.length) {
      throw new OmniPersonaError(
        'INVALID_PAYLOAD',
        `Cannot grow tensor "${name}" from [${source.shape}] to [${target.shape}]`,
      );
    }
    target.data.set(source.data);
  }
  return grown;
}
