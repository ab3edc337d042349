import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/random.js';
import { factoredNorm } from '../../src/core/sync/factored-norm.js';
import { addFactorProducts, factorWeights, type ScaledFactors } from '../../src/core/sync/low-rank.js';
import { decodeTensors } from '../../src/core/sync/tensor-codec.js';
import { DeltaAverage } from '../../src/server/federated-average.js';
import {
  checkUpdateBytes,
  inlineUpdateProcessor,
  sumUpdates,
  zeroWeights,
} from '../../src/server/update-processing.js';
import { wasmFactorProducts } from '../../src/server/wasm-factor-products.js';
import { filledWeights, updateBody } from './helpers.js';

const config = { items: 40, categories: 3, brands: 2, dim: 8 };
const check = { expected: { version: 3, config }, maxBytes: 1 << 20, maxNorm: 10 };

/** A low-rank update of `config`'s shapes, values from `seed`, scaled by `size`. */
function lowRankUpdate(seed: number, size: number, dtype: 'F32' | 'I8' = 'I8') {
  const random = seededRandom(seed);
  const delta = filledWeights(config, () => size * (random() - 0.5));
  return updateBody(factorWeights(delta, { rank: 2, random }), 3, 1 + (seed % 4), 'low-rank', dtype);
}

describe('checkUpdateBytes', () => {
  it('keeps an update within the norm bound as the request’s own bytes', () => {
    const bytes = lowRankUpdate(1, 0.1);
    const { header, checked } = checkUpdateBytes(bytes, check);
    expect(header).toEqual({ baseVersion: 3, examples: 2, kind: 'low-rank' });
    if (!checked) throw new Error('expected a checked update');
    expect(checked.encoded).toBe(bytes);
    expect(checked.norm).toBeCloseTo(factoredNorm(decodeTensors(bytes).tensors), 5);
    expect(checked.norm).toBeLessThan(check.maxNorm);
  });

  it.each(['I8', 'F32'] as const)('clips a longer %s update to the bound, stored in its own precision', (dtype) => {
    const bytes = lowRankUpdate(2, 20, dtype);
    const { checked } = checkUpdateBytes(bytes, check);
    if (!checked) throw new Error('expected a checked update');
    expect(checked.norm).toBeGreaterThan(check.maxNorm);
    const stored = decodeTensors(checked.encoded);
    expect(new Set(Object.values(stored.dtypes))).toEqual(new Set([dtype]));
    expect(factoredNorm(stored.tensors)).toBeCloseTo(check.maxNorm, 2);
  });

  it('refuses an update that does not fit the model, or holds a non-finite value', () => {
    const wrong = updateBody(
      filledWeights({ ...config, items: 41 }, () => 0),
      3,
      1,
    );
    expect(() => checkUpdateBytes(wrong, check)).toThrow(/does not fit model 3: tensor "\w+" should have shape/u);
    const nan = updateBody(
      filledWeights(config, (i) => (i === 5 ? Number.NaN : 0)),
      3,
      1,
    );
    expect(() => checkUpdateBytes(nan, check)).toThrow(expect.objectContaining({ code: 'INVALID_PAYLOAD' }));
  });

  it('refuses an int8 update whose scale takes its integers past float32, without reading them', () => {
    const bytes = lowRankUpdate(3, 0.1);
    expect(checkUpdateBytes(withScale(bytes, 'item_embedding.v', 2.6e36), check).checked).toBeDefined();
    // 128 × 2.7e36 exceeds float32's largest value: −128 would decode to −Infinity.
    expect(() => checkUpdateBytes(withScale(bytes, 'item_embedding.v', 2.7e36), check)).toThrow(
      /tensor "item_embedding" holds a non-finite value/u,
    );
  });

  it('checks an update on another version against the expected shape, or gives its bytes back', () => {
    // On another version, of the expected shape: checked as the others.
    const sameShape = updateBody(
      filledWeights(config, () => 0.1),
      2,
      4,
    );
    expect(checkUpdateBytes(sameShape, check)).toMatchObject({
      header: { baseVersion: 2, examples: 4, kind: 'delta' },
      checked: { encoded: sameShape },
    });
    // Shaped for another model: not refused by this one, but given back to be checked against its own.
    const other = updateBody(
      filledWeights({ ...config, items: 41 }, () => 0.1),
      2,
      4,
    );
    for (const against of [check, { ...check, expected: undefined }]) {
      const result = checkUpdateBytes(other, against);
      expect(result).toEqual({ header: { baseVersion: 2, examples: 4, kind: 'delta' }, bytes: other });
      expect(result.bytes).toBe(other);
    }
    // A malformed header is refused whatever the expected version.
    expect(() => checkUpdateBytes(other.subarray(0, 12), { ...check, expected: undefined })).toThrow(
      expect.objectContaining({ code: 'INVALID_PAYLOAD' }),
    );
  });
});

describe('sumUpdates', () => {
  const parts = Array.from({ length: 40 }, (_, i) => ({ encoded: lowRankUpdate(10 + i, 0.2), weight: 1 + (i % 3) }));

  /** Σ weight · delta, as a round's average sums it. */
  function expectedSums(clipNorm?: number) {
    const average = new DeltaAverage(zeroWeights(config));
    for (const { encoded, weight } of parts) {
      const delta = decodeTensors(encoded).tensors;
      const norm = factoredNorm(delta);
      const scale = clipNorm !== undefined && norm > clipNorm ? clipNorm / norm : 1;
      average.add({ delta: scaled(delta, scale), examples: weight });
    }
    return average.sums();
  }

  it('sums the weighted updates, factors multiplied out, and counts them', () => {
    const sum = sumUpdates(config, parts);
    expect(sum.count).toBe(40);
    expect(sum.weight).toBe(parts.reduce((total, part) => total + part.weight, 0));
    expectClose(sum.sums, expectedSums(), 1e-6);
  });

  it('clips each update to clipNorm first, as DP-FedAvg counts it', () => {
    const clipNorm = 0.05;
    expect(parts.some(({ encoded }) => factoredNorm(decodeTensors(encoded).tensors) > clipNorm)).toBe(true);
    const sum = sumUpdates(
      config,
      parts.map((part) => ({ ...part, clipNorm })),
    );
    expectClose(sum.sums, expectedSums(clipNorm), 1e-6);
  });

  it('on the calling thread, sums a large round in slices to the same result', async () => {
    const sum = await inlineUpdateProcessor.sum(config, parts);
    expect(sum.count).toBe(40);
    expectClose(sum.sums, sumUpdates(config, parts).sums, 1e-5);
  });
});

describe('wasmFactorProducts', () => {
  it('adds the same products as addFactorProducts, large ones on WASM and small ones in JavaScript', async () => {
    const products = await wasmFactorProducts();
    expect(products).toBeDefined();
    const random = seededRandom(7);
    for (const [rows, cols, pairs] of [
      [1000, 64, 16],
      [12, 8, 3],
    ] as const) {
      const factors = Array.from({ length: pairs }, () => ({
        u: { shape: [rows, 4], data: Float32Array.from({ length: rows * 4 }, () => random() - 0.5) },
        v: { shape: [4, cols], data: Float32Array.from({ length: 4 * cols }, () => random() - 0.5) },
        scale: 1 + random() * 3,
      }));
      // The same products from int8 integers, their scales folded into each pair's.
      const integers = factors.map(({ u, v, scale }) => ({
        u: { shape: u.shape, data: Int8Array.from(u.data, (value) => Math.round(value * 254)) },
        v: { shape: v.shape, data: Int8Array.from(v.data, (value) => Math.round(value * 254)) },
        scale: scale / 254 ** 2,
      }));
      const asFloats = integers.map(({ u, v, scale }) => ({
        u: { shape: u.shape, data: Float32Array.from(u.data) },
        v: { shape: v.shape, data: Float32Array.from(v.data) },
        scale,
      }));
      const cases: Array<[ScaledFactors[], ScaledFactors[]]> = [
        [factors, factors],
        [integers, asFloats],
      ];
      for (const [given, reference] of cases) {
        const start = Float64Array.from({ length: rows * cols }, () => random());
        const expected = Float64Array.from(start);
        addFactorProducts(expected, reference);
        const actual = Float64Array.from(start);
        products?.(actual, given);
        actual.forEach((value, i) => {
          expect(value).toBeCloseTo(expected[i] as number, 4);
        });
      }
    }
  });
});

/** `bytes` with the int8 scale of tensor `name` replaced by `scale`, the data as it was. */
function withScale(bytes: Uint8Array, name: string, scale: number): Uint8Array {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
  header.__metadata__[`scale.${name}`] = String(scale);
  const text = new TextEncoder().encode(JSON.stringify(header).padEnd(Math.ceil((length + 16) / 8) * 8, ' '));
  const out = new Uint8Array(8 + text.length + bytes.length - 8 - length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(bytes.subarray(8 + length), 8 + text.length);
  return out;
}

function scaled(delta: ReturnType<typeof decodeTensors>['tensors'], scale: number) {
  return Object.fromEntries(
    Object.entries(delta).map(([name, tensor]) => [
      name,
      // A factored pair scales through its V alone.
      { shape: tensor.shape, data: name.endsWith('.u') ? tensor.data : tensor.data.map((value) => value * scale) },
    ]),
  );
}

function expectClose(actual: Record<string, { data: Float32Array }>, expected: typeof actual, tolerance: number) {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const [name, tensor] of Object.entries(expected)) {
    const values = actual[name]?.data as Float32Array;
    tensor.data.forEach((value, i) => {
      expect(Math.abs((values[i] as number) - value)).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(value)));
    });
  }
}
