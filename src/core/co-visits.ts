import { OmniPersonaError } from './errors.js';

/** How co-visits are counted and how much they add to a ranking. */
export interface CoVisitOptions {
  /**
   * How far ahead a shopper's next items count: an item `d` steps after another (d ≤ window) adds
   * 1/d to that pair.
   * @default 3
   */
  window: number;
  /** Neighbours kept per item, the heaviest; the rest are dropped to keep the table small. @default 50 */
  neighbours: number;
  /** How many of the shopper's newest items the scores follow; the k-th newest counts 1/k. @default 3 */
  recent: number;
  /** The weight of `log(1 + co-visits)` added to the model's scores; 0 leaves them unchanged. @default 1.5 */
  weight: number;
}

/**
 * The defaults, chosen on the validation targets of Beauty (README, "Co-visits"): a window of 3
 * and the 3 newest items ranked best, and weights of 1 to 2 alike, with 1.5 the best in NDCG@10.
 */
export const CO_VISIT_DEFAULTS: CoVisitOptions = { window: 3, neighbours: 50, recent: 3, weight: 1.5 };

/** One item's neighbours: item rows and their co-visit weights, heaviest first. */
export interface CoVisitNeighbours {
  items: Int32Array;
  weights: Float32Array;
}

/**
 * Which items shoppers go on to after each item, and how often: a sparse item-to-item table counted
 * from event sequences (item rows, oldest first). The model's embeddings generalise across items;
 * this table remembers the pairs themselves, however rare the items, and adding it to the model's
 * scores ranks the held-out item higher than either does alone (README, "Co-visits").
 */
export class CoVisits {
  /** Item rows the table covers; rows at or past it have no neighbours. */
  readonly items: number;
  // Compressed sparse rows: row r's neighbours are targets[offsets[r] … offsets[r + 1]).
  readonly #offsets: Int32Array;
  readonly #targets: Int32Array;
  readonly #weights: Float32Array;

  private constructor(offsets: Int32Array, targets: Int32Array, weights: Float32Array) {
    this.items = offsets.length - 1;
    this.#offsets = offsets;
    this.#targets = targets;
    this.#weights = weights;
  }

  /**
   * Counts the pairs in `sequences`: each item, then each of the `window` items after it at step
   * `d`, adds 1/d to that pair. An item followed by itself adds nothing: it is already in the history.
   * @throws OmniPersonaError `INVALID_OPTIONS` for an item row outside `0 … items - 1` or bad options.
   */
  static count(
    sequences: Iterable<ArrayLike<number>>,
    items: number,
    options: Pick<CoVisitOptions, 'window' | 'neighbours'> = CO_VISIT_DEFAULTS,
  ): CoVisits {
    checkCount('window', options.window);
    checkCount('neighbours', options.neighbours);
    const rows = new Map<number, Map<number, number>>();
    for (const sequence of sequences) {
      for (let at = 0; at < sequence.length; at++) {
        const from = checkedRow(sequence[at] as number, items);
        for (let step = 1; step <= options.window && at + step < sequence.length; step++) {
          const to = checkedRow(sequence[at + step] as number, items);
          if (to === from) continue;
          const row = rows.get(from) ?? new Map<number, number>();
          rows.set(from, row.set(to, (row.get(to) ?? 0) + 1 / step));
        }
      }
    }
    return CoVisits.fromRows(
      items,
      Array.from({ length: items }, (_, from) => [...(rows.get(from) ?? [])]),
      options.neighbours,
    );
  }

  /**
   * A table from each row's `[item, weight]` pairs (as sent over the wire), keeping the `neighbours`
   * heaviest per row; ties go to the lower row.
   * @throws OmniPersonaError `INVALID_OPTIONS` for a row outside `0 … items - 1` or a weight that is not positive and finite.
   */
  static fromRows(
    items: number,
    rows: ReadonlyArray<ReadonlyArray<readonly [number, number]>>,
    neighbours = CO_VISIT_DEFAULTS.neighbours,
  ): CoVisits {
    if (rows.length > items) {
      throw new OmniPersonaError(
        'INVALID_OPTIONS',
        `Expected at most ${items} rows of co-visits, received ${rows.length}`,
      );
    }
    const offsets = new Int32Array(items + 1);
    const kept: Array<Array<readonly [number, number]>> = [];
    for (let from = 0; from < items; from++) {
      const row = [...(rows[from] ?? [])];
      for (const [to, weight] of row) {
        checkedRow(to, items);
        if (!(weight > 0 && Number.isFinite(weight))) {
          throw new OmniPersonaError('INVALID_OPTIONS', `Expected positive co-visit weights, received ${weight}`);
        }
      }
      row.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
      kept.push(row.slice(0, neighbours));
      offsets[from + 1] = (offsets[from] as number) + (kept[from]?.length ?? 0);
    }
    const targets = new Int32Array(offsets[items] as number);
    const weights = new Float32Array(targets.length);
    kept.forEach((row, from) => {
      row.forEach(([to, weight], k) => {
        targets[(offsets[from] as number) + k] = to;
        weights[(offsets[from] as number) + k] = weight;
      });
    });
    return new CoVisits(offsets, targets, weights);
  }

  /** Pairs kept in the table. */
  get size(): number {
    return this.#targets.length;
  }

  /** The items shoppers went on to after `row`, heaviest first; none for a row the table does not cover. */
  neighbours(row: number): CoVisitNeighbours {
    if (!(Number.isInteger(row) && row >= 0 && row < this.items)) {
      return { items: new Int32Array(0), weights: new Float32Array(0) };
    }
    const start = this.#offsets[row] as number;
    const end = this.#offsets[row + 1] as number;
    return { items: this.#targets.subarray(start, end), weights: this.#weights.subarray(start, end) };
  }

  /** Every row's `[item, weight]` pairs, heaviest first: what {@link CoVisits.fromRows} reads back. */
  rows(): Array<Array<[number, number]>> {
    return Array.from({ length: this.items }, (_, row) => {
      const { items, weights } = this.neighbours(row);
      return Array.from(items, (item, k) => [item, weights[k] as number] as [number, number]);
    });
  }

  /**
   * Adds `weight · log(1 + c_j)` to each item's score, where `c_j` sums the co-visits from the
   * history's `recent` newest items to item j, the k-th newest counting 1/k. The logarithm keeps a
   * very common pair from drowning the model's scores; items without co-visits keep theirs.
   */
  addTo(
    scores: Float32Array,
    history: ArrayLike<number>,
    options: Pick<CoVisitOptions, 'recent' | 'weight'> = CO_VISIT_DEFAULTS,
  ): void {
    if (options.weight === 0) return;
    const counts = new Map<number, number>();
    for (let k = 0; k < options.recent && k < history.length; k++) {
      const { items, weights } = this.neighbours(history[history.length - 1 - k] as number);
      items.forEach((item, n) => {
        counts.set(item, (counts.get(item) ?? 0) + (weights[n] as number) / (k + 1));
      });
    }
    for (const [item, count] of counts) {
      if (item < scores.length) scores[item] = (scores[item] as number) + options.weight * Math.log1p(count);
    }
  }
}

function checkCount(name: string, value: number): void {
  if (!(Number.isInteger(value) && value >= 1)) {
    throw new OmniPersonaError(
      'INVALID_OPTIONS',
      `Expected co-visit ${name} to be a whole number ≥ 1, received ${value}`,
    );
  }
}

function checkedRow(row: number, items: number): number {
  if (!(Number.isInteger(row) && row >= 0 && row < items)) {
    throw new OmniPersonaError('INVALID_OPTIONS', `Expected an item row in 0 … ${items - 1}, received ${row}`);
  }
  return row;
}
