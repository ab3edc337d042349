import type { CoVisitOptions, CoVisits } from '../core/co-visits.js';
import type { RecommenderModel } from '../ml/recommender-model.js';
import type { BatchScorer } from './evaluate-ranking.js';
import { sequenceHistory } from './sequence-features.js';

/** A co-visits table and how it adds to the model's scores. */
export interface CoVisitScoring {
  table: CoVisits;
  options: Pick<CoVisitOptions, 'recent' | 'weight'>;
}

/**
 * Ranks with the device's model: each history becomes the model input as on the device, scored in
 * one pass per batch; with `coVisits`, the table is added to each history's scores as devices add it.
 */
export function modelScorer(model: RecommenderModel, coVisits?: CoVisitScoring): BatchScorer {
  return async (histories) => {
    const scores = await model.scoreMany(histories.map((history) => sequenceHistory(history)));
    if (coVisits) {
      const items = scores.length / Math.max(1, histories.length);
      histories.forEach((history, row) => {
        coVisits.table.addTo(scores.subarray(row * items, (row + 1) * items), history, coVisits.options);
      });
    }
    return scores;
  };
}
