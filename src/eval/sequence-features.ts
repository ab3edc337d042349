import { historyInput, type ItemStep, trainingExamples } from '../core/features/history.js';
import type { HistoryInput, TrainingExample } from '../core/model/model-runtime.js';

/**
 * A data set's item rows as the core's item steps, so that offline examples go through the same
 * feature code as a shopper's log. The public sets are reviews with an order but no usable time:
 * each step is a product view, all at one instant, so every step has the same signal and the
 * positions alone carry the order.
 */
function itemSteps(rows: ArrayLike<number>): ItemStep[] {
  return Array.from(rows, (item) => ({ item, kind: 'view', time: 0 }));
}

/** Next-item training examples of one user's training sequence, as the device builds them from its log. */
export function sequenceExamples(rows: ArrayLike<number>): TrainingExample[] {
  return trainingExamples(itemSteps(rows));
}

/** The model input for ranking what follows `rows`. */
export function sequenceHistory(rows: ArrayLike<number>): HistoryInput {
  return historyInput(itemSteps(rows), 0);
}
