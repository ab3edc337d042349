import { describe, expect, it } from 'vitest';
import { CO_VISIT_DEFAULTS, CoVisits } from '../../../src/core/co-visits.js';
import { OmniPersonaError } from '../../../src/core/errors.js';

const pairs = (table: CoVisits, row: number) => {
  const { items, weights } = table.neighbours(row);
  return Array.from(items, (item, k) => [item, Number((weights[k] as number).toFixed(4))]);
};

describe('CoVisits.count', () => {
  it('adds 1/d for each item d steps after another, within the window, heaviest first', () => {
    const table = CoVisits.count(
      [
        [0, 1, 2, 3],
        [0, 2],
      ],
      5,
      { window: 2, neighbours: 10 },
    );
    // 0 → 1 at step 1, 0 → 2 at step 2 and at step 1 in the second history; 3 is three steps away.
    expect(pairs(table, 0)).toEqual([
      [2, 1.5],
      [1, 1],
    ]);
    expect(pairs(table, 1)).toEqual([
      [2, 1],
      [3, 0.5],
    ]);
    expect(pairs(table, 3)).toEqual([]);
    expect(pairs(table, 4)).toEqual([]);
    expect(table.size).toBe(5);
  });

  it('counts no pair of an item with itself, and keeps only the heaviest neighbours, ties to the lower row', () => {
    const table = CoVisits.count(
      [
        [0, 0, 3],
        [0, 2],
        [0, 1],
        [0, 3],
      ],
      4,
      { window: 1, neighbours: 2 },
    );
    expect(pairs(table, 0)).toEqual([
      [3, 2],
      [1, 1],
    ]);
  });

  it('refuses item rows outside the table and options that are not whole numbers ≥ 1', () => {
    expect(() => CoVisits.count([[0, 4]], 4)).toThrow(OmniPersonaError);
    expect(() => CoVisits.count([[0, -1]], 4)).toThrow(/item row in 0 … 3, received -1/u);
    expect(() => CoVisits.count([[0, 1]], 4, { window: 0, neighbours: 5 })).toThrow(/window/u);
    expect(() => CoVisits.count([[0, 1]], 4, { window: 2, neighbours: 1.5 })).toThrow(/neighbours/u);
  });
});

describe('CoVisits.fromRows', () => {
  it('reads back what rows() gives', () => {
    const table = CoVisits.count(
      [
        [0, 1, 2],
        [2, 1, 0, 3],
      ],
      4,
    );
    const copy = CoVisits.fromRows(4, table.rows());
    expect(copy.rows()).toEqual(table.rows());
    expect(copy.size).toBe(table.size);
  });

  it('refuses rows outside the table and weights that are not positive and finite', () => {
    expect(() => CoVisits.fromRows(2, [[[2, 1]]])).toThrow(OmniPersonaError);
    expect(() => CoVisits.fromRows(2, [[[1, 0]]])).toThrow(/positive co-visit weights, received 0/u);
    expect(() => CoVisits.fromRows(2, [[[1, Number.NaN]]])).toThrow(/positive/u);
    expect(() => CoVisits.fromRows(1, [[], []])).toThrow(/at most 1 rows/u);
  });
});

describe('CoVisits.addTo', () => {
  const table = CoVisits.fromRows(5, [[[1, 2]], [[2, 1]], [[3, 4]], [], []]);

  it('adds weight · log(1 + co-visits) from the newest items, the k-th newest counting 1/k', () => {
    const scores = new Float32Array(5);
    table.addTo(scores, [0, 1, 2], { recent: 2, weight: 2 });
    // Newest 2: 3 gets 4 (from 2, k = 1); newest but one 1: 2 gets 1/2. Item 0's neighbours are too old.
    expect(Array.from(scores, (score) => Number(score.toFixed(5)))).toEqual([
      0,
      0,
      Number((2 * Math.log1p(0.5)).toFixed(5)),
      Number((2 * Math.log1p(4)).toFixed(5)),
      0,
    ]);
  });

  it('moves an item with co-visits above one the model scored a little higher', () => {
    const scores = Float32Array.from([0, 0, 0, 1, 1.2]);
    table.addTo(scores, [2], CO_VISIT_DEFAULTS);
    expect(scores[3]).toBeGreaterThan(scores[4] as number);
  });

  it('leaves the scores as they are at weight 0, for an empty history, and for items past the table', () => {
    const scores = Float32Array.from([1, 2, 3, 4, 5]);
    table.addTo(scores, [0, 1], { recent: 3, weight: 0 });
    table.addTo(scores, [], CO_VISIT_DEFAULTS);
    table.addTo(scores, [7], CO_VISIT_DEFAULTS);
    expect(Array.from(scores)).toEqual([1, 2, 3, 4, 5]);
  });

  it('skips neighbours past the end of shorter scores, as when the model has fewer rows than the catalog', () => {
    const scores = new Float32Array(3);
    table.addTo(scores, [2], CO_VISIT_DEFAULTS);
    expect(Array.from(scores)).toEqual([0, 0, 0]);
  });
});
