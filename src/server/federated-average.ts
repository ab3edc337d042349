import { OmniPersonaError } from '../core/errors.js';
import type { WeightSet } from '../core/model/weights.js';

/** One device's contribution to a round. */
export interface WeightedDelta {
  delta: WeightSet;
  /** Training examples behind the delta: its weight in the average. */
  examples: number;
}

/**
 * The weighted mean of a round's deltas, `Σ(nᵢ·Δᵢ) / Σnᵢ`, added one delta at a time so that a
 * round of many devices never holds all their deltas at once. Sums run in float64, so that the
 * result does not depend on the order of the updates beyond float32 rounding.
 */
export class DeltaAverage {
  readonly #sums = new Map<string, { shape: number[]; sum: Float64Array }>();
  #examples = 0;
  #count = 0;

  /** `like` gives the tensor names and sizes every delta must have (the model's weights). */
  constructor(like: WeightSet) {
    for (const [name, tensor] of Object.entries(like)) {
      this.#sums.set(name, { shape: [...tensor.shape], sum: new Float64Array(tensor.data.length) });
    }
  }

  get count(): number {
    return this.#count;
  }

  /** @throws OmniPersonaError `INVALID_PAYLOAD` when `delta` lacks a tensor or has another size. */
  add({ delta, examples }: WeightedDelta): void {
    for (const [name, { sum }] of this.#sums) {
      const part = delta[name];
      if (!part || part.data.length !== sum.length) {
        throw new OmniPersonaError('INVALID_PAYLOAD', `Update lacks tensor "${name}" of ${sum.length} values`);
      }
    }
    for (const [name, { sum }] of this.#sums) {
      const data = (delta[name] as WeightSet[string]).data;
      for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] as number) + examples * (data[i] as number);
    }
    this.#examples += examples;
    this.#count++;
  }

  /** The weighted mean so far; undefined before any update with examples. */
  mean(): WeightSet | undefined {
    if (this.#count === 0 || !(this.#examples > 0)) return undefined;
    const mean: WeightSet = {};
    for (const [name, { shape, sum }] of this.#sums) {
      const data = new Float32Array(sum.length);
      for (let i = 0; i < data.length; i++) data[i] = (sum[i] as number) / this.#examples;
      mean[name] = { shape: [...shape], data };
    }
    return mean;
  }
}

/**
 * Federated averaging: `base + Σ(nᵢ·Δᵢ) / Σnᵢ`.
 * @throws OmniPersonaError `INVALID_PAYLOAD` when a delta lacks a tensor of `base` or has another size.
 */
export function federatedAverage(base: WeightSet, updates: readonly WeightedDelta[]): WeightSet {
  const average = new DeltaAverage(base);
  for (const update of updates) average.add(update);
  const mean = average.mean();
  if (!mean) return base;
  const result: WeightSet = {};
  for (const [name, tensor] of Object.entries(base)) {
    const step = (mean[name] as WeightSet[string]).data;
    result[name] = { shape: [...tensor.shape], data: tensor.data.map((value, i) => value + (step[i] as number)) };
  }
  return result;
}
