import { OmniPersonaError } from '../errors.js';
import type { Tensor32, WeightSet } from '../model/weights.js';
import { gaussian } from '../random.js';

/**
 * Low-rank updates: a device sends each matrix of its update as two thin factors, `U` (rows × k)
 * and `V` (k × cols), whose product approximates it, instead of the matrix itself. The item table's
 * update is then a few numbers per item, dense over every row, so it is both small and silent
 * about which items the shopper touched.
 *
 * The factors come from a randomized range finder with one power iteration (Halko, Martinsson and
 * Tropp, 2011): `U` spans the matrix's top-k column space (orthonormal columns) and `V = Uᵀ·M`, so
 * `U·V` is the projection of `M` onto that space — exact when `M` has rank k or less, which the
 * update of a few training examples nearly has. One-dimensional tensors, and matrices too small to
 * gain, travel whole.
 */

/** Suffixes of a factored tensor's two parts in an update payload. */
export const FACTOR_SUFFIX = { u: '.u', v: '.v' } as const;

/**
 * The rank devices send. An update is one gradient step on a shopper's few examples, nearly of that
 * rank already; at 4 the update of a 12,101-item, 64-wide model is about 1/40 of its float32 weights
 * once quantised to int8 (`npm run bench`, sync).
 */
export const UPDATE_RANK = 4;

/** The highest rank a server accepts: beyond it, factors stop saving anything for a 64-wide table. */
export const MAX_UPDATE_RANK = 16;

export interface LowRankOptions {
  /** Columns of each `U` (rows of each `V`). */
  rank: number;
  /** Source of the random test matrix: only the quality of the subspace found depends on it. */
  random: () => number;
}

/** `delta` with every matrix that gains from it replaced by its rank-k factors `name.u` and `name.v`. */
export function factorWeights(delta: WeightSet, options: LowRankOptions): WeightSet {
  const steps = factorSteps(delta, options);
  let step = steps.next();
  while (!step.done) step = steps.next();
  return step.value;
}

/**
 * {@link factorWeights} in slices of a few milliseconds, awaiting `pause` between them: on a
 * page's main thread, the item table of a large catalog would otherwise be one long task.
 */
export async function factorWeightsInSlices(
  delta: WeightSet,
  options: LowRankOptions,
  pause: () => Promise<void>,
): Promise<WeightSet> {
  const steps = factorSteps(delta, options);
  let step = steps.next();
  while (!step.done) {
    await pause();
    step = steps.next();
  }
  return step.value;
}

/** The work of {@link factorWeights}, yielding after each pass over a matrix. */
function* factorSteps(delta: WeightSet, { rank, random }: LowRankOptions): Generator<void, WeightSet> {
  if (!Number.isInteger(rank) || rank < 1 || rank > MAX_UPDATE_RANK) {
    throw new OmniPersonaError(
      'INVALID_OPTIONS',
      `rank must be an integer from 1 to ${MAX_UPDATE_RANK}, received ${rank}`,
    );
  }
  const factored: WeightSet = {};
  // By name, so that the random stream meets the tensors in one order whatever order they came in.
  for (const name of Object.keys(delta).sort()) {
    const tensor = delta[name] as Tensor32;
    const [rows = 0, cols = 0] = tensor.shape;
    const k = Math.min(rank, rows, cols);
    if (tensor.shape.length !== 2 || k * (rows + cols) >= rows * cols) {
      factored[name] = tensor;
      continue;
    }
    const { u, v } = yield* lowRankFactors(tensor.data, rows, cols, k, random);
    factored[`${name}${FACTOR_SUFFIX.u}`] = { shape: [rows, k], data: u };
    factored[`${name}${FACTOR_SUFFIX.v}`] = { shape: [k, cols], data: v };
  }
  return factored;
}

/**
 * The factored tensors of `factored` multiplied out, whole tensors passed through: the dense update
 * a low-rank payload stands for.
 * @throws OmniPersonaError `INVALID_PAYLOAD` for a factor without its pair, or factors whose shapes do not chain.
 */
export function expandWeights(factored: WeightSet): WeightSet {
  const dense: WeightSet = {};
  for (const [name, parts] of factorPairs(factored)) {
    dense[name] = 'whole' in parts ? parts.whole : expandPair(parts.u, parts.v);
  }
  return dense;
}

/** `target += scale × U·V`, the product of one factored pair, without building it. */
export function addFactorProduct(target: Float32Array | Float64Array, u: Tensor32, v: Tensor32, scale: number): void {
  addFactorRows(target, u, v, scale, 0, u.shape[0] ?? 0);
}

/** A factor's values: float32, or int8 integers (their scale then goes into the pair's). */
export interface FactorValues {
  shape: number[];
  data: Float32Array | Int8Array;
}

/** One factored pair of {@link addFactorProducts}: it adds `scale × U·V`. */
export interface ScaledFactors {
  u: FactorValues;
  v: FactorValues;
  scale: number;
}

/**
 * `target += Σ scaleᵢ × Uᵢ·Vᵢ` over pairs that multiply out to one shape: {@link addFactorProduct}
 * for each, a block of rows at a time, so that each block of `target` stays in cache while every
 * pair adds to it, instead of `target` passing through memory once per pair.
 */
export function addFactorProducts(target: Float32Array | Float64Array, pairs: readonly ScaledFactors[]): void {
  const rows = pairs[0]?.u.shape[0] ?? 0;
  const cols = pairs[0]?.v.shape[1] ?? 1;
  const block = Math.max(1, Math.floor(PRODUCT_BLOCK_VALUES / cols));
  for (let from = 0; from < rows; from += block) {
    const to = Math.min(rows, from + block);
    for (const { u, v, scale } of pairs) addFactorRows(target, u, v, scale, from, to);
  }
}

/** Values of `target` that {@link addFactorProducts} adds to at once: 32 KiB of float64. */
const PRODUCT_BLOCK_VALUES = 4096;

/** {@link addFactorProduct} for rows `from` to `to` (exclusive) of `target`. */
function addFactorRows(
  target: Float32Array | Float64Array,
  u: FactorValues,
  v: FactorValues,
  scale: number,
  from: number,
  to: number,
): void {
  const k = u.shape[1] ?? 0;
  const cols = v.shape[1] ?? 0;
  const ud = u.data;
  const vd = v.data;
  for (let i = from; i < to; i++) {
    const out = i * cols;
    // Four factor columns at a time: each target value is read and written once per four, not per one.
    let c = 0;
    for (; c + 4 <= k; c += 4) {
      const w0 = (ud[i * k + c] as number) * scale;
      const w1 = (ud[i * k + c + 1] as number) * scale;
      const w2 = (ud[i * k + c + 2] as number) * scale;
      const w3 = (ud[i * k + c + 3] as number) * scale;
      const f0 = c * cols;
      const f1 = f0 + cols;
      const f2 = f1 + cols;
      const f3 = f2 + cols;
      for (let j = 0; j < cols; j++) {
        target[out + j] =
          (target[out + j] as number) +
          w0 * (vd[f0 + j] as number) +
          w1 * (vd[f1 + j] as number) +
          w2 * (vd[f2 + j] as number) +
          w3 * (vd[f3 + j] as number);
      }
    }
    for (; c < k; c++) {
      const weight = (ud[i * k + c] as number) * scale;
      if (weight === 0) continue;
      const from = c * cols;
      for (let j = 0; j < cols; j++) target[out + j] = (target[out + j] as number) + weight * (vd[from + j] as number);
    }
  }
}

/** Whether `weights` holds factors, which makes it a `low-rank` update. */
export function isFactored(weights: WeightSet): boolean {
  return Object.keys(weights).some((name) => name.endsWith(FACTOR_SUFFIX.u) || name.endsWith(FACTOR_SUFFIX.v));
}

type FactorParts<T> = { whole: T } | { u: T; v: T };

/**
 * The tensors of `factored` by name: whole ones, and factor pairs checked to chain
 * (`u` rows × k, `v` k × cols, k ≤ {@link MAX_UPDATE_RANK}).
 * @throws OmniPersonaError `INVALID_PAYLOAD` otherwise.
 */
export function factorPairs<T extends { shape: number[] }>(factored: Record<string, T>): Map<string, FactorParts<T>> {
  const pairs = new Map<string, FactorParts<T>>();
  for (const [name, tensor] of Object.entries(factored)) {
    const part = name.endsWith(FACTOR_SUFFIX.u) ? 'u' : name.endsWith(FACTOR_SUFFIX.v) ? 'v' : undefined;
    if (!part) {
      pairs.set(name, { whole: tensor });
      continue;
    }
    const base = name.slice(0, -FACTOR_SUFFIX[part].length);
    if (pairs.has(base)) continue;
    const u = factored[`${base}${FACTOR_SUFFIX.u}`];
    const v = factored[`${base}${FACTOR_SUFFIX.v}`];
    if (!u || !v) invalid(`factor "${name}" has no ${part === 'u' ? 'v' : 'u'} to pair with`);
    const k = u.shape[1];
    if (
      u.shape.length !== 2 ||
      v.shape.length !== 2 ||
      k !== v.shape[0] ||
      k === undefined ||
      k < 1 ||
      k > MAX_UPDATE_RANK
    ) {
      invalid(
        `factors of "${base}" have shapes [${u.shape}] and [${v.shape}], which do not chain at rank 1 to ${MAX_UPDATE_RANK}`,
      );
    }
    if (factored[base]) invalid(`"${base}" is sent both whole and as factors`);
    pairs.set(base, { u, v });
  }
  return pairs;
}

function expandPair(u: Tensor32, v: Tensor32): Tensor32 {
  const rows = u.shape[0] ?? 0;
  const cols = v.shape[1] ?? 0;
  const data = new Float32Array(rows * cols);
  addFactorProduct(data, u, v, 1);
  return { shape: [rows, cols], data };
}

/**
 * Rank-k factors of the row-major `rows × cols` matrix `m`: `u` with orthonormal columns spanning
 * the range found by one power iteration from a Gaussian test matrix, and `v = uᵀ·m`.
 */
function* lowRankFactors(
  m: Float32Array,
  rows: number,
  cols: number,
  k: number,
  random: () => number,
): Generator<void, { u: Float32Array; v: Float32Array }> {
  const test = new Float64Array(cols * k);
  for (let i = 0; i < test.length; i++) test[i] = gaussian(random);
  // Y = M·Ω, then one power iteration Y = M·(Mᵀ·Q) to sharpen the spectrum's gap.
  const range = orthonormalize(multiply(m, rows, cols, test, k), rows, k);
  yield;
  const back = orthonormalize(multiply(m, rows, cols, range, k, true), cols, k);
  yield;
  const basis = orthonormalize(multiply(m, rows, cols, back, k), rows, k);
  yield;
  const v = new Float32Array(k * cols);
  const vSum = new Float64Array(k * cols);
  for (let i = 0; i < rows; i++) {
    const row = i * cols;
    for (let c = 0; c < k; c++) {
      const q = basis[i * k + c] as number;
      if (q === 0) continue;
      const out = c * cols;
      for (let j = 0; j < cols; j++) vSum[out + j] = (vSum[out + j] as number) + q * (m[row + j] as number);
    }
  }
  v.set(vSum);
  yield;
  return { u: Float32Array.from(basis), v };
}

/**
 * `m · b` for row-major `m` (rows × cols) and `b` (cols × k); with `transposed`, `mᵀ · b` for `b`
 * (rows × k). Either way one pass over `m`, row by row.
 */
function multiply(
  m: Float32Array,
  rows: number,
  cols: number,
  b: Float64Array,
  k: number,
  transposed = false,
): Float64Array {
  const out = new Float64Array((transposed ? cols : rows) * k);
  for (let i = 0; i < rows; i++) {
    const row = i * cols;
    for (let p = 0; p < cols; p++) {
      const value = m[row + p] as number;
      if (value === 0) continue;
      const target = (transposed ? p : i) * k;
      const from = (transposed ? i : p) * k;
      for (let c = 0; c < k; c++) out[target + c] = (out[target + c] as number) + value * (b[from + c] as number);
    }
  }
  return out;
}

/**
 * Orthonormal columns of the row-major `rows × k` matrix `y`, in place (modified Gram–Schmidt, run
 * twice for float accuracy); a column left with no length of its own becomes zero.
 */
function orthonormalize(y: Float64Array, rows: number, k: number): Float64Array {
  for (let c = 0; c < k; c++) {
    let before = 0;
    for (let i = 0; i < rows; i++) before += (y[i * k + c] as number) ** 2;
    for (let pass = 0; pass < 2; pass++) {
      for (let d = 0; d < c; d++) {
        let dot = 0;
        for (let i = 0; i < rows; i++) dot += (y[i * k + c] as number) * (y[i * k + d] as number);
        for (let i = 0; i < rows; i++) y[i * k + c] = (y[i * k + c] as number) - dot * (y[i * k + d] as number);
      }
    }
    let after = 0;
    for (let i = 0; i < rows; i++) after += (y[i * k + c] as number) ** 2;
    const scale = after > 1e-20 * Math.max(before, Number.MIN_VALUE) && after > 0 ? 1 / Math.sqrt(after) : 0;
    for (let i = 0; i < rows; i++) y[i * k + c] = (y[i * k + c] as number) * scale;
  }
  return y;
}

function invalid(message: string): never {
  throw new OmniPersonaError('INVALID_PAYLOAD', `Invalid low-rank update: ${message}`);
}
