import { OmniPersonaError } from '../core/errors.js';
import type { WeightSet } from '../core/model/weights.js';

/** One device's contribution to a round. */
export interface WeightedDelta {
  delta: WeightSet;
  /** Training examples behind the delta: its weight in the average. */
  examples: number;
}

/**
 * Federated averaging: `base + Σ(nᵢ·Δᵢ) / Σnᵢ`, summed in float64 so that the result does not depend
 * on the order of the updates beyond float32 rounding.
 * @throws OmniPersonaError `INVALID_PAYLOAD` when a delta lacks a tensor of `base` or has another size.
 */
export function federatedAverage(base: WeightSet, updates: readonly WeightedDelta[]): WeightSet {
  const total = updates.reduce((sum, update) => sum + update.examples, 0);
  if (updates.length === 0 || !(total > 0)) return base;
  const result: WeightSet = {};
  for (const [name, tensor] of Object.entries(base)) {
    const sum = new Float64Array(tensor.data.length);
    for (const { delta, examples } of updates) {
      const part = delta[name];
      if (!part || part.data.length !== sum.length) {
        throw new OmniPersonaError('INVALID_PAYLOAD', `Update lacks tensor "${name}" of ${sum.length} values`);
      }
      for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] as number) + examples * (part.data[i] as number);
    }
    const data = new Float32Array(sum.length);
    for (let i = 0; i < data.length; i++) data[i] = (tensor.data[i] as number) + (sum[i] as number) / total;
    result[name] = { shape: [...tensor.shape], data };
  }
  return result;
}
