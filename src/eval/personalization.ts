import { FINE_TUNE } from '../core/model/model-runtime.js';
import type { WeightSet } from '../core/model/weights.js';
import { seededRandom } from '../core/random.js';
import type { RecommenderModel } from '../ml/recommender-model.js';
import { trainModel } from '../ml/train-model.js';
import { type BatchScorer, evaluateRanking } from './evaluate-ranking.js';
import type { RankingCase } from './leave-one-out.js';
import { type CoVisitScoring, modelScorer } from './model-scorer.js';
import type { MetricValues, TargetPlace } from './ranking-metrics.js';
import { sampleIndices } from './sample-indices.js';
import { sequenceExamples } from './sequence-features.js';

/** Shoppers with at least this many events before their held-out item take part. */
export const PERSONALIZATION_MIN_EVENTS = 10;

/** What on-device fine-tuning does for shoppers with enough events, on the same held-out items. */
export interface PersonalizationResult {
  users: number;
  /** The global model alone. */
  global: MetricValues;
  /** The global model fine-tuned on each shopper's own events, as the device does (`FINE_TUNE`). */
  personal: MetricValues;
  /**
   * Shoppers whose held-out item the fine-tuned model ranks higher than the global model does, and
   * lower (the rest: the same place): a paired view of the same comparison, at every rank.
   */
  rankedHigher: number;
  rankedLower: number;
}

/**
 * The shoppers the personalisation rows measure: up to `users` of those whose history before the
 * held-out item has at least {@link PERSONALIZATION_MIN_EVENTS} events, drawn with `seed`, as
 * indices into `cases`.
 */
export function personalizationShoppers(cases: readonly RankingCase[], users: number, seed: number): number[] {
  const eligible = cases.flatMap((entry, index) => (entry.history.length >= PERSONALIZATION_MIN_EVENTS ? [index] : []));
  return sampleIndices(eligible.length, users, seededRandom(seed)).map((index) => eligible[index] as number);
}

/**
 * The personalisation gain for `chosen` (see {@link personalizationShoppers}; undefined when it is
 * empty): ranks each one's held-out item with the global model, then again after fine-tuning a copy
 * of it on the shopper's own history with the device's settings (everything before the held-out
 * item; no time budget, so the run is reproducible). With `coVisits`, both rank as devices do,
 * the co-visits added to the model's scores. `model` ends with the global weights it started with.
 */
export async function personalizationGain(
  model: RecommenderModel,
  chosen: readonly RankingCase[],
  items: number,
  seed: number,
  coVisits?: CoVisitScoring,
): Promise<PersonalizationResult | undefined> {
  if (chosen.length === 0) return undefined;
  const global: WeightSet = await model.weights();
  // Each shopper's target rank under each model (the middle of its ties).
  const ranks = { global: new Float64Array(chosen.length), personal: new Float64Array(chosen.length) };
  const record = (into: Float64Array) => (index: number, place: TargetPlace | undefined) => {
    into[index] = place ? place.above + place.tied / 2 : Number.NaN;
  };
  const globalMetrics = await evaluateRanking(
    chosen,
    items,
    modelScorer(model, coVisits),
    undefined,
    record(ranks.global),
  );
  let fineTunes = 0;
  // One history per call: each shopper is ranked by their own fine-tuned copy of the global model.
  const fineTuned: BatchScorer = async (histories) => {
    const history = histories[0] as Int32Array;
    model.setWeights(global);
    const options = { ...FINE_TUNE, timeBudgetMs: Number.POSITIVE_INFINITY };
    await trainModel(model, sequenceExamples(history), options, seed + fineTunes++);
    return modelScorer(model, coVisits)([history]);
  };
  try {
    const personal = await evaluateRanking(chosen, items, fineTuned, 1, record(ranks.personal));
    let rankedHigher = 0;
    let rankedLower = 0;
    ranks.global.forEach((rank, index) => {
      const tuned = ranks.personal[index] as number;
      if (tuned < rank) rankedHigher++;
      else if (tuned > rank) rankedLower++;
    });
    return { users: chosen.length, global: globalMetrics, personal, rankedHigher, rankedLower };
  } finally {
    model.setWeights(global);
  }
}
