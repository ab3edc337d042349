import { describe, expect, it } from 'vitest';
import { initialWeights } from '../../src/core/model/model-spec.js';
import { weightsNorm } from '../../src/core/model/weights.js';
import { clipWeights } from '../../src/server/clip-weights.js';
import { federatedAverage } from '../../src/server/federated-average.js';
import { growWeights } from '../../src/server/grow-weights.js';

const tensor = (...values: number[]) => ({ shape: [values.length], data: Float32Array.from(values) });

describe('federatedAverage', () => {
  it('adds the example-weighted mean of the deltas to the base', () => {
    const base = { w: tensor(1, 2) };
    const result = federatedAverage(base, [
      { delta: { w: tensor(1, 0) }, examples: 3 },
      { delta: { w: tensor(-1, 4) }, examples: 1 },
    ]);
    expect(Array.from(result.w?.data ?? [])).toEqual([1 + (3 - 1) / 4, 2 + 4 / 4]);
  });

  it('averages a row-sparse tensor over the deltas that carry each row', () => {
    // Two rows of width 2: row 0 from both deltas, row 1 from the first only; `d` stays dense.
    const table = (...values: number[]) => ({ shape: [2, 2], data: Float32Array.from(values) });
    const result = federatedAverage({ t: table(0, 0, 0, 0), d: tensor(0) }, [
      { delta: { t: table(1, 1, 2, 2), d: tensor(1) }, examples: 3, rows: { t: Int32Array.of(0, 1) } },
      // Row 1 holds a value the delta does not carry: it must not count.
      { delta: { t: table(-1, 3, 9, 9), d: tensor(5) }, examples: 1, rows: { t: Int32Array.of(0) } },
    ]);
    expect(Array.from(result.t?.data ?? [])).toEqual([(3 - 1) / 4, (3 + 3) / 4, 2, 2]);
    expect(Array.from(result.d?.data ?? [])).toEqual([(3 + 5) / 4]);
  });

  it('leaves rows that no delta carries where they were', () => {
    const base = { t: { shape: [3, 1], data: Float32Array.of(7, 8, 9) } };
    const delta = { t: { shape: [3, 1], data: Float32Array.of(1, 1, 1) } };
    const result = federatedAverage(base, [{ delta, examples: 2, rows: { t: Int32Array.of(1) } }]);
    expect(Array.from(result.t?.data ?? [])).toEqual([7, 9, 9]);
  });

  it('refuses a row outside its tensor', () => {
    const base = { t: tensor(0, 0) };
    expect(() =>
      federatedAverage(base, [{ delta: { t: tensor(1, 1) }, examples: 1, rows: { t: Int32Array.of(2) } }]),
    ).toThrow(/row outside tensor "t"/);
  });

  it('refuses a delta that lacks a tensor of the base', () => {
    expect(() => federatedAverage({ w: tensor(1) }, [{ delta: {}, examples: 1 }])).toThrow(/lacks tensor "w"/);
  });
});

describe('clipWeights', () => {
  it('scales an update down to the bound and keeps its direction', () => {
    const { weights, norm } = clipWeights({ a: tensor(3), b: tensor(4) }, 1);
    expect(norm).toBe(5);
    expect(weightsNorm(weights)).toBeCloseTo(1, 6);
    expect([weights.a?.data[0], weights.b?.data[0]].map((x) => Number(x?.toFixed(6)))).toEqual([0.6, 0.8]);
  });

  it('leaves an update within the bound untouched', () => {
    const update = { a: tensor(0.3, 0.4) };
    expect(clipWeights(update, 1).weights).toBe(update);
  });
});

describe('growWeights', () => {
  it('keeps every existing row and initialises the new ones', () => {
    const small = initialWeights({ items: 3, categories: 2, brands: 1, dim: 4 }, 7);
    const config = { items: 5, categories: 3, brands: 1, dim: 4 };
    const grown = growWeights(small, config);
    const fresh = initialWeights(config);
    expect(grown.item_embedding?.shape).toEqual([5, 4]);
    expect(Array.from(grown.item_embedding?.data.subarray(0, 12) ?? [])).toEqual(
      Array.from(small.item_embedding?.data ?? []),
    );
    expect(Array.from(grown.item_embedding?.data.subarray(12) ?? [])).toEqual(
      Array.from(fresh.item_embedding?.data.subarray(12) ?? []),
    );
    expect(Array.from(grown.category_embedding?.data.subarray(0, 8) ?? [])).toEqual(
      Array.from(small.category_embedding?.data ?? []),
    );
  });

  it('refuses to change the embedding width', () => {
    const small = initialWeights({ items: 3, categories: 2, brands: 1, dim: 4 });
    expect(() => growWeights(small, { items: 5, categories: 2, brands: 1, dim: 8 })).toThrow(/Cannot grow/);
  });
});
