import type { WeightSet } from '../core/model/weights.js';

/** The server's optimizer over rounds (FedAdam, Reddi et al., "Adaptive Federated Optimization", ICLR 2021). */
export interface AdaptiveAggregationSettings {
  /** Server step size. */
  learningRate: number;
  /** Decay of the mean of past round deltas. */
  beta1: number;
  /** Decay of the mean of their squares. */
  beta2: number;
  /** Adaptivity floor τ: a weight whose deltas are smaller than this moves in proportion to them. */
  tau: number;
}

export const ADAPTIVE_AGGREGATION_DEFAULTS: AdaptiveAggregationSettings = {
  learningRate: 0.05,
  beta1: 0.9,
  beta2: 0.99,
  tau: 0.001,
};

/** The moments the server keeps between rounds, one per weight. */
export interface AdaptiveAggregationState {
  first: WeightSet;
  second: WeightSet;
}

/**
 * One round of FedAdam: the round's weighted mean delta Δ is a pseudo-gradient;
 * `m ← β₁m + (1−β₁)Δ`, `v ← β₂v + (1−β₂)Δ²`, `w ← w + η·m / (√v + τ)`.
 *
 * Plain averaging moves every weight by the mean delta, so a few local steps per device make tiny
 * rounds and learning takes thousands of them; scaling each weight's step by how consistently the
 * devices push it is what lets a shared embedding table learn in hundreds. `state` starts at zero
 * moments (undefined) and is returned for the next round.
 */
export function adaptiveAggregate(
  base: WeightSet,
  meanDelta: WeightSet,
  state: AdaptiveAggregationState | undefined,
  settings: AdaptiveAggregationSettings = ADAPTIVE_AGGREGATION_DEFAULTS,
): { weights: WeightSet; state: AdaptiveAggregationState } {
  const { learningRate, beta1, beta2, tau } = settings;
  const next: AdaptiveAggregationState = { first: {}, second: {} };
  const weights: WeightSet = {};
  for (const [name, tensor] of Object.entries(base)) {
    const delta = meanDelta[name]?.data;
    if (!delta || delta.length !== tensor.data.length) {
      throw new RangeError(`The mean delta lacks tensor "${name}" of ${tensor.data.length} values`);
    }
    const first = state?.first[name]?.data.slice() ?? new Float32Array(delta.length);
    const second = state?.second[name]?.data.slice() ?? new Float32Array(delta.length);
    const data = tensor.data.slice();
    for (let i = 0; i < data.length; i++) {
      const step = delta[i] as number;
      const m = beta1 * (first[i] as number) + (1 - beta1) * step;
      const v = beta2 * (second[i] as number) + (1 - beta2) * step * step;
      first[i] = m;
      second[i] = v;
      data[i] = (data[i] as number) + (learningRate * m) / (Math.sqrt(v) + tau);
    }
    const shape = [...tensor.shape];
    weights[name] = { shape, data };
    next.first[name] = { shape, data: first };
    next.second[name] = { shape, data: second };
  }
  return { weights, state: next };
}
