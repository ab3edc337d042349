import { describe, expect, it } from 'vitest';
import { initialWeights } from '../../src/core/model/model-spec.js';
import type { WeightSet } from '../../src/core/model/weights.js';
import { weightsNorm } from '../../src/core/model/weights.js';
import { seededRandom } from '../../src/core/random.js';
import { clipUpdate } from '../../src/core/sync/factored-norm.js';
import { factorWeights } from '../../src/core/sync/low-rank.js';
import { DeltaAverage, federatedAverage, privateMean, withStep } from '../../src/server/federated-average.js';
import { growWeights } from '../../src/server/grow-weights.js';
import { ServerAdam } from '../../src/server/server-optimizer.js';

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

describe('ServerAdam', () => {
  const settings = { learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

  it('moves each weight by the rate along its update at the first round, however large its update', () => {
    const next = new ServerAdam(settings).step({ w: tensor(1, 1, 1) }, { w: tensor(0.001, -50, 0) });
    // Bias-corrected Adam's first step is the rate times the sign; a zero update leaves its weight.
    const [up, down, still] = Array.from(next.w?.data ?? []);
    expect(up).toBeCloseTo(1.1, 4);
    expect(down).toBeCloseTo(0.9, 4);
    expect(still).toBe(1);
  });

  it('keeps its moments across rounds', () => {
    const optimizer = new ServerAdam(settings);
    const first = optimizer.step({ w: tensor(0) }, { w: tensor(1) });
    const second = optimizer.step(first, { w: tensor(-1) });
    // The updates +1 then −1 are the gradients −1 then +1; Adam's second step, worked out by hand.
    const m = 0.9 * (0.1 * -1) + 0.1 * 1;
    const v = 0.999 * (0.001 * 1) + 0.001 * 1;
    const expected = 0.1 - (0.1 * (m / (1 - 0.9 ** 2))) / (Math.sqrt(v / (1 - 0.999 ** 2)) + 1e-8);
    expect(optimizer.steps).toBe(2);
    expect(second.w?.data[0]).toBeCloseTo(expected, 6);
  });

  it('refuses an update that lacks a tensor or has another size, before changing anything', () => {
    const optimizer = new ServerAdam(settings);
    expect(() => optimizer.step({ w: tensor(1, 2) }, { w: tensor(1) })).toThrow(/Update lacks tensor "w"/u);
    expect(() => optimizer.step({ w: tensor(1), b: tensor(0) }, { w: tensor(1) })).toThrow(/"b"/u);
    expect(optimizer.steps).toBe(0);
  });
});

describe('clipUpdate of a dense update', () => {
  it('scales an update down to the bound and keeps its direction', () => {
    const { delta: weights, norm } = clipUpdate({ a: tensor(3), b: tensor(4) }, 1);
    expect(norm).toBe(5);
    expect(weightsNorm(weights)).toBeCloseTo(1, 6);
    expect([weights.a?.data[0], weights.b?.data[0]].map((x) => Number(x?.toFixed(6)))).toEqual([0.6, 0.8]);
  });

  it('leaves an update within the bound untouched', () => {
    const update = { a: tensor(0.3, 0.4) };
    expect(clipUpdate(update, 1).delta).toBe(update);
  });
});

describe('privateMean (DP-FedAvg)', () => {
  /** The next weights of a private round: the base plus its noisy mean. */
  const privateAverage = (
    base: WeightSet,
    updates: Parameters<typeof privateMean>[1],
    options: Parameters<typeof privateMean>[2],
  ) => withStep(base, privateMean(base, updates, options) as WeightSet);

  const zeros = (n: number) => ({ w: { shape: [n], data: new Float32Array(n) } });

  it('without noise, adds the unweighted mean of the clipped deltas, whatever their example counts', () => {
    const base = { w: tensor(1, 1) };
    const updates = [
      { delta: { w: tensor(3, 4) }, examples: 100 }, // norm 5: clipped to norm 1, (0.6, 0.8)
      { delta: { w: tensor(0.2, 0) }, examples: 1 },
    ];
    const result = privateAverage(base, updates, { clipNorm: 1, noiseMultiplier: 0 });
    expect(Array.from(result.w?.data ?? [], (x) => Number(x.toFixed(6)))).toEqual([1.4, 1.4]);
  });

  it('adds Gaussian noise of z·C/K to every value of the mean', () => {
    const n = 20_000;
    const updates = Array.from({ length: 4 }, () => ({ delta: zeros(n), examples: 1 }));
    const result = privateAverage(zeros(n), updates, { clipNorm: 2, noiseMultiplier: 1.5, random: seededRandom(3) });
    const data = result.w?.data ?? new Float32Array();
    const mean = data.reduce((sum, x) => sum + x, 0) / n;
    const deviation = Math.sqrt(data.reduce((sum, x) => sum + (x - mean) ** 2, 0) / n);
    // z·C/K = 1.5 · 2 / 4; the sample deviation of 20,000 draws is within 2% of it.
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(deviation / 0.75 - 1)).toBeLessThan(0.02);
  });

  it('draws its noise from a cryptographic source unless given one', () => {
    const updates = [{ delta: zeros(8), examples: 1 }];
    const first = privateAverage(zeros(8), updates, { clipNorm: 1, noiseMultiplier: 1 }).w?.data;
    const second = privateAverage(zeros(8), updates, { clipNorm: 1, noiseMultiplier: 1 }).w?.data;
    expect(first).not.toEqual(second);
  });
});

describe('DeltaAverage', () => {
  const config = { items: 40, categories: 3, brands: 2, dim: 6 };
  const like = initialWeights(config, 1);
  // Factored as devices send them, and dense.
  const updates = Array.from({ length: 9 }, (_, i) => ({
    delta:
      i % 3 === 0
        ? initialWeights(config, i + 2)
        : factorWeights(initialWeights(config, i + 2), { rank: 2, random: seededRandom(i) }),
    examples: (i % 4) + 1,
  }));
  const expectClose = (actual: WeightSet | undefined, expected: WeightSet | undefined) => {
    for (const [name, tensor] of Object.entries(expected as WeightSet)) {
      tensor.data.forEach((value, i) => {
        expect(actual?.[name]?.data[i]).toBeCloseTo(value, 6);
      });
    }
  };

  it('adds many deltas at once as one at a time', () => {
    const one = new DeltaAverage(like);
    for (const update of updates) one.add(update);
    const many = new DeltaAverage(like);
    many.addAll(updates);
    expect([many.count, many.weight]).toEqual([one.count, one.weight]);
    expectClose(many.mean(), one.mean());
  });

  it('sums a round in parts, each part’s sums added to the whole', () => {
    const whole = new DeltaAverage(like);
    whole.addAll(updates);
    const parts = [updates.slice(0, 4), updates.slice(4)].map((part) => {
      const average = new DeltaAverage(like);
      average.addAll(part);
      return average;
    });
    const merged = new DeltaAverage(like);
    for (const part of parts) merged.addSum(part.sums(), part.weight, part.count);
    expect([merged.count, merged.weight]).toEqual([whole.count, whole.weight]);
    expectClose(merged.mean(), whole.mean());
    expect(() => merged.addSum({}, 1, 1)).toThrow(/lack tensor/);
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
