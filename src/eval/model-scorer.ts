import type { RecommenderModel } from '../ml/recommender-model.js';
import type { BatchScorer } from './evaluate-ranking.js';
import { sequenceHistory } from './sequence-features.js';

/** Ranks with the device's model: each history becomes the model input as on the device, scored in one pass per batch. */
export function modelScorer(model: RecommenderModel): BatchScorer {
  return (histories) => model.scoreMany(histories.map((history) => sequenceHistory(history)));
}
