import { describe, expect, it } from 'vitest';
import { OmniPersonaError } from '../../../src/core/errors.js';
import type { WeightSet } from '../../../src/core/model/weights.js';
import { weightsNorm } from '../../../src/core/model/weights.js';
import { gaussian, seededRandom } from '../../../src/core/random.js';
import { clipUpdate, factoredNorm } from '../../../src/core/sync/factored-norm.js';
import {
  addFactorProduct,
  addFactorProducts,
  expandWeights,
  factorWeights,
  factorWeightsInSlices,
  isFactored,
} from '../../../src/core/sync/low-rank.js';
import { decodeTensors, encodeTensors, readTensors } from '../../../src/core/sync/tensor-codec.js';

/** A rows × cols matrix of rank `rank` (a sum of random outer products) plus `noise` per entry. */
function lowRankMatrix(rows: number, cols: number, rank: number, noise: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rank; r++) {
    const a = Array.from({ length: rows }, () => gaussian(random));
    const b = Array.from({ length: cols }, () => gaussian(random) / (r + 1));
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) data[i * cols + j] = (data[i * cols + j] ?? 0) + (a[i] ?? 0) * (b[j] ?? 0);
    }
  }
  for (let i = 0; i < data.length; i++) data[i] = (data[i] ?? 0) + noise * gaussian(random);
  return data;
}

function relativeError(approx: Float32Array, exact: Float32Array): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < exact.length; i++) {
    diff += ((approx[i] ?? 0) - (exact[i] ?? 0)) ** 2;
    norm += (exact[i] ?? 0) ** 2;
  }
  return Math.sqrt(diff / norm);
}

describe('low-rank updates', () => {
  it('reproduces a matrix of rank k from its rank-k factors, and passes small tensors whole', () => {
    const delta: WeightSet = {
      table: { shape: [300, 64], data: lowRankMatrix(300, 64, 3, 0, 1) },
      bias: { shape: [300], data: lowRankMatrix(300, 1, 1, 0, 2) },
      small: { shape: [4, 6], data: lowRankMatrix(4, 6, 2, 0, 3) },
    };
    const factored = factorWeights(delta, { rank: 4, random: seededRandom(9) });
    expect(Object.keys(factored).sort()).toEqual(['bias', 'small', 'table.u', 'table.v']);
    expect(factored['table.u']?.shape).toEqual([300, 4]);
    expect(factored['table.v']?.shape).toEqual([4, 64]);
    expect(isFactored(factored)).toBe(true);
    expect(isFactored(delta)).toBe(false);
    const expanded = expandWeights(factored);
    expect(relativeError(expanded.table?.data as Float32Array, delta.table?.data as Float32Array)).toBeLessThan(1e-5);
    expect(expanded.bias).toBe(delta.bias);
    expect(expanded.small).toBe(delta.small);
  });

  it('in slices gives the same factors, pausing between the passes over each matrix', async () => {
    const delta: WeightSet = {
      a: { shape: [400, 16], data: lowRankMatrix(400, 16, 2, 0.01, 12) },
      b: { shape: [300, 16], data: lowRankMatrix(300, 16, 2, 0.01, 13) },
      bias: { shape: [300], data: new Float32Array(300) },
    };
    let pauses = 0;
    const sliced = await factorWeightsInSlices(delta, { rank: 2, random: seededRandom(4) }, async () => {
      pauses++;
    });
    expect(sliced).toEqual(factorWeights(delta, { rank: 2, random: seededRandom(4) }));
    // Four passes for each of the two matrices.
    expect(pauses).toBe(8);
  });

  it('keeps the dominant part of a noisy matrix nearly as well as the best rank-k approximation', () => {
    // Rank 4 with 5% noise: the best rank-4 approximation leaves about the noise.
    const exact = lowRankMatrix(2000, 64, 4, 0, 4);
    const noisy = lowRankMatrix(2000, 64, 4, 0.05, 4);
    const factored = factorWeights({ m: { shape: [2000, 64], data: noisy } }, { rank: 4, random: seededRandom(5) });
    const approx = expandWeights(factored).m?.data as Float32Array;
    expect(relativeError(approx, exact)).toBeLessThan(relativeError(noisy, exact));
    expect(relativeError(approx, noisy)).toBeLessThan(0.1);
  });

  it('computes the norm of the product from the factors, and clips through them', () => {
    const delta: WeightSet = {
      table: { shape: [500, 32], data: lowRankMatrix(500, 32, 6, 0.01, 6) },
      bias: { shape: [500], data: lowRankMatrix(500, 1, 1, 0, 7) },
    };
    const factored = factorWeights(delta, { rank: 3, random: seededRandom(8) });
    const dense = expandWeights(factored);
    expect(factoredNorm(factored)).toBeCloseTo(weightsNorm(dense), 2);
    const { delta: clipped, norm } = clipUpdate(factored, 1);
    expect(norm).toBeCloseTo(weightsNorm(dense), 2);
    expect(weightsNorm(expandWeights(clipped))).toBeCloseTo(1, 4);
    expect(clipUpdate(factored, norm * 2).delta).toBe(factored);
  });

  it('computes the norm of any factors that chain, and an int8 payload’s from its integers and scales', () => {
    const delta: WeightSet = {
      table: { shape: [500, 32], data: lowRankMatrix(500, 32, 6, 0.01, 9) },
      bias: { shape: [500], data: lowRankMatrix(500, 1, 1, 0, 10) },
    };
    // Rank 4, what devices send, has a Gram matrix of its own; factors of any chain count, not only
    // the range finder's orthonormal ones.
    const random = seededRandom(13);
    const gaussians = (length: number) => Float32Array.from({ length }, () => gaussian(random));
    const skewed: WeightSet = {
      'table.u': { shape: [500, 4], data: gaussians(2000) },
      'table.v': { shape: [4, 32], data: gaussians(128) },
      bias: { shape: [500], data: gaussians(500) },
    };
    for (const factored of [3, 4].map((rank) => factorWeights(delta, { rank, random })).concat(skewed)) {
      expect(factoredNorm(factored) / weightsNorm(expandWeights(factored))).toBeCloseTo(1, 5);
      const payload = encodeTensors(factored, {}, 'I8');
      const integers = Object.fromEntries(
        Object.entries(readTensors(payload).tensors).map(([name, { shape, scale, bytes }]) => [
          name,
          { shape, scale, data: new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length) },
        ]),
      );
      const norm = factoredNorm(decodeTensors(payload).tensors);
      expect(norm).toBeGreaterThan(1);
      expect(Math.abs(factoredNorm(integers) - norm) / norm).toBeLessThan(1e-6);
    }
  });

  it('travels as int8 with stochastic rounding whose mean over many devices is unbiased', () => {
    const value = { shape: [1, 3], data: Float32Array.of(1, 0.3, -0.55) };
    const random = seededRandom(11);
    const sums = [0, 0, 0];
    const draws = 4000;
    for (let d = 0; d < draws; d++) {
      const decoded = decodeTensors(encodeTensors({ value }, {}, 'I8', { random })).tensors.value?.data ?? [];
      for (let i = 0; i < 3; i++) sums[i] = (sums[i] ?? 0) + (decoded[i] ?? 0);
    }
    // Step 1/127; the rounding error of one draw is below it, of the mean of 4,000 well below.
    expect((sums[1] ?? 0) / draws).toBeCloseTo(0.3, 3);
    expect((sums[2] ?? 0) / draws).toBeCloseTo(-0.55, 3);
    const nearest = decodeTensors(encodeTensors({ value }, {}, 'I8')).tensors.value?.data ?? [];
    expect(Math.abs((nearest[1] ?? 0) - 0.3)).toBeGreaterThan(1e-4);
  });

  it('adds many products at once as it adds each alone, across blocks of rows', () => {
    // 300 rows of 40 span three blocks of the batched product.
    const pairs = [3, 4, 5].map((k, index) => {
      const factored = factorWeights(
        { m: { shape: [300, 40], data: lowRankMatrix(300, 40, k, 0, index + 1) } },
        {
          rank: k,
          random: seededRandom(index + 9),
        },
      );
      return { u: factored['m.u'] as WeightSet[string], v: factored['m.v'] as WeightSet[string], scale: index - 0.5 };
    });
    const one = new Float64Array(300 * 40).fill(0.25);
    for (const { u, v, scale } of pairs) addFactorProduct(one, u, v, scale);
    const many = new Float64Array(300 * 40).fill(0.25);
    addFactorProducts(many, pairs);
    many.forEach((value, i) => {
      expect(value).toBeCloseTo(one[i] as number, 10);
    });
  });

  it('refuses factors without their pair or whose shapes do not chain, with INVALID_PAYLOAD', () => {
    const u = { shape: [10, 2], data: new Float32Array(20) };
    const v = { shape: [3, 8], data: new Float32Array(24) };
    const unpaired: WeightSet[] = [{ 't.u': u }, { 't.u': u, 't.v': v }, { 't.u': u, 't.v': v, t: u }];
    for (const bad of unpaired) {
      expect(() => expandWeights(bad)).toThrow(OmniPersonaError);
      try {
        expandWeights(bad);
      } catch (error) {
        expect((error as OmniPersonaError).code).toBe('INVALID_PAYLOAD');
      }
    }
    const tooHigh = { shape: [10, 17], data: new Float32Array(170) };
    expect(() => expandWeights({ 't.u': tooHigh, 't.v': { shape: [17, 8], data: new Float32Array(136) } })).toThrow(
      /rank 1 to 16/,
    );
    expect(() => factorWeights({}, { rank: 0, random: Math.random })).toThrow(/rank must be/);
  });
});
