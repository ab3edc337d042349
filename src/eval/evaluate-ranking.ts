import type { RankingCase } from './leave-one-out.js';
import { type MetricValues, RankingMetrics, type TargetPlace, targetPlace } from './ranking-metrics.js';

/**
 * Scores every item for each history: a `[histories.length × items]` row-major block, one row per
 * history, higher is more relevant.
 */
export type BatchScorer = (histories: readonly Int32Array[]) => Promise<Float32Array>;

/**
 * Ranks all items for every case (full ranking, no sampled negatives), history items left out, and
 * averages HR and NDCG over the cases. Histories are scored `batchSize` at a time. `onPlace` hears
 * where each case's target landed (undefined when it was not ranked), by the case's index.
 */
export async function evaluateRanking(
  cases: readonly RankingCase[],
  items: number,
  scorer: BatchScorer,
  batchSize = 256,
  onPlace?: (index: number, place: TargetPlace | undefined) => void,
): Promise<MetricValues> {
  const metrics = new RankingMetrics();
  for (let start = 0; start < cases.length; start += batchSize) {
    const batch = cases.slice(start, start + batchSize);
    const scores = await scorer(batch.map((entry) => entry.history));
    if (scores.length !== batch.length * items) {
      throw new RangeError(
        `Expected ${batch.length * items} scores for ${batch.length} histories, received ${scores.length}`,
      );
    }
    batch.forEach(({ history, target }, row) => {
      const place = targetPlace(scores.subarray(row * items, (row + 1) * items), target, history);
      metrics.add(place);
      onPlace?.(start + row, place);
    });
  }
  return metrics.values();
}
