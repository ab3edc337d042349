/** The cut-offs K of HR@K and NDCG@K. */
export const CUTOFFS = [5, 10, 20] as const;

/** `HR@5` … `NDCG@20`. */
export type MetricName = `${'HR' | 'NDCG'}@${(typeof CUTOFFS)[number]}`;

/** The metrics of one run, each averaged over the users ranked. */
export type MetricValues = Record<MetricName, number>;

/** Metric names in report order: HR at each cut-off, then NDCG. */
export const METRIC_NAMES: readonly MetricName[] = [
  ...CUTOFFS.map((k) => `HR@${k}` as const),
  ...CUTOFFS.map((k) => `NDCG@${k}` as const),
];

/**
 * Where a target lands in a ranking: `above` items score higher, `tied` others score the same, so
 * its rank (from 0) is one of `above … above + tied`.
 */
export interface TargetPlace {
  above: number;
  tied: number;
}

/**
 * Where `target` lands among every item row of `scores` except those in `history`, or undefined
 * when it cannot be found: the target is itself in the history (the protocol removes history items
 * from the ranking, target or not) or its score is not a number. An item whose score is NaN counts
 * as above the target, so a broken model cannot look good.
 */
export function targetPlace(
  scores: ArrayLike<number>,
  target: number,
  history: ArrayLike<number>,
): TargetPlace | undefined {
  const score = scores[target];
  if (score === undefined || Number.isNaN(score)) return undefined;
  const excluded = new Set<number>();
  for (let k = 0; k < history.length; k++) {
    const item = history[k] as number;
    if (item === target) return undefined;
    excluded.add(item);
  }
  // Counting over every item, then taking back the history's, keeps a set lookup out of the inner loop.
  let above = 0;
  let tied = -1; // the target ties with itself
  for (let item = 0; item < scores.length; item++) {
    const value = scores[item] as number;
    if (value === score) tied++;
    else if (!(value < score)) above++;
  }
  for (const item of excluded) {
    const value = scores[item] as number;
    if (value === score) tied--;
    else if (!(value < score)) above--;
  }
  return { above, tied };
}

/**
 * Accumulates targets' places into hit rate and NDCG at each cut-off. HR@K: the target is in the
 * top K. NDCG@K: 1 / log2(rank + 2) when it is (rank from 0), else 0; with one relevant item the
 * ideal DCG is 1.
 *
 * Ties are broken at random, in expectation: a target tied with `tied` others takes each rank of
 * `above … above + tied` with equal chance. Breaking them for or against the target instead would
 * make a model that scores everything alike perfect or worthless; this way it scores as a random
 * ranking does, and the popularity baseline (whose counts tie often, even in the top 10) is neither
 * flattered nor penalised.
 */
export class RankingMetrics {
  #users = 0;
  readonly #hits = CUTOFFS.map(() => 0);
  readonly #gains = CUTOFFS.map(() => 0);

  /** Users ranked so far. */
  get users(): number {
    return this.#users;
  }

  /** Adds one user's result; undefined (the target could not be ranked) is a miss. */
  add(place: TargetPlace | undefined): void {
    this.#users++;
    if (place === undefined) return;
    const share = 1 / (place.tied + 1);
    CUTOFFS.forEach((k, i) => {
      const last = Math.min(place.above + place.tied, k - 1);
      let gain = 0;
      for (let rank = place.above; rank <= last; rank++) gain += 1 / Math.log2(rank + 2);
      this.#hits[i] = (this.#hits[i] as number) + Math.max(0, last - place.above + 1) * share;
      this.#gains[i] = (this.#gains[i] as number) + gain * share;
    });
  }

  /** The averages over the users added; zeros when there are none. */
  values(): MetricValues {
    const mean = (sum: number) => (this.#users === 0 ? 0 : sum / this.#users);
    // Built in report order, which JSON keeps.
    const hits = CUTOFFS.map((k, i) => [`HR@${k}`, mean(this.#hits[i] as number)] as const);
    const gains = CUTOFFS.map((k, i) => [`NDCG@${k}`, mean(this.#gains[i] as number)] as const);
    return Object.fromEntries([...hits, ...gains]) as MetricValues;
  }
}
