import type { WeightSet } from '../model/weights.js';
import { FACTOR_SUFFIX, factorPairs } from './low-rank.js';

/*
 * The L2 norm of an update, dense or factored (`low-rank.ts`), and clipping it to a bound: what
 * limits one device's influence on a round. A factored pair's norm comes from the k × k Gram
 * matrices of its factors, never from the product multiplied out.
 */

/**
 * A tensor as {@link factoredNorm} reads it: float32 values, or the int8 integers of a payload,
 * which stand for themselves times `scale` (1 when omitted). Int8 integers are summed as they are,
 * exactly in float64, and their scale applied to the sums, so that no tensor need be converted.
 */
export interface ScaledTensor {
  shape: number[];
  data: Float32Array | Int8Array;
  scale?: number;
}

/**
 * The L2 norm of the dense update `factored` stands for.
 * @throws OmniPersonaError `INVALID_PAYLOAD` for a factor without its pair, or factors whose shapes do not chain.
 */
export function factoredNorm(factored: Readonly<Record<string, ScaledTensor>>): number {
  let sum = 0;
  for (const [, parts] of factorPairs(factored)) {
    if ('whole' in parts) {
      const { data, scale = 1 } = parts.whole;
      let squares = 0;
      for (let i = 0; i < data.length; i++) squares += (data[i] as number) * (data[i] as number);
      sum += squares * scale * scale;
      continue;
    }
    const [rows = 0, k = 0] = parts.u.shape;
    const cols = parts.v.shape[1] ?? 0;
    const gramU = gram(parts.u.data, rows, k, 'columns');
    const gramV = gram(parts.v.data, k, cols, 'rows');
    let dot = 0;
    for (let i = 0; i < gramU.length; i++) dot += (gramU[i] as number) * (gramV[i] as number);
    const scale = (parts.u.scale ?? 1) * (parts.v.scale ?? 1);
    sum += dot * scale * scale;
  }
  return Math.sqrt(Math.max(0, sum));
}

/** `factored` with every tensor's values multiplied by `scale` (each factored pair's `V` only). */
export function scaleFactored(factored: WeightSet, scale: number): WeightSet {
  const scaled: WeightSet = {};
  for (const [name, tensor] of Object.entries(factored)) {
    scaled[name] = name.endsWith(FACTOR_SUFFIX.u)
      ? tensor
      : { shape: [...tensor.shape], data: tensor.data.map((value) => value * scale) };
  }
  return scaled;
}

/**
 * `delta` (dense or factored) scaled down to L2 norm `maxNorm` when it is longer, with its norm
 * before: what bounds one device's influence on a round.
 */
export function clipUpdate(delta: WeightSet, maxNorm: number): { delta: WeightSet; norm: number } {
  const norm = factoredNorm(delta);
  return { delta: norm > maxNorm ? scaleFactored(delta, maxNorm / norm) : delta, norm };
}

/**
 * {@link clipUpdate} through the tensors' scales (each whole tensor's and each `V` factor's), no
 * value copied: how a server clips the int8 updates it sums.
 */
export function clipScaled(
  delta: Readonly<Record<string, ScaledTensor>>,
  maxNorm: number,
): Readonly<Record<string, ScaledTensor>> {
  const norm = factoredNorm(delta);
  if (!(norm > maxNorm)) return delta;
  const clipped: Record<string, ScaledTensor> = {};
  for (const [name, tensor] of Object.entries(delta)) {
    const scale = tensor.scale ?? 1;
    clipped[name] = { ...tensor, scale: name.endsWith(FACTOR_SUFFIX.u) ? scale : (scale * maxNorm) / norm };
  }
  return clipped;
}

/** The k × k Gram matrix of `data`'s columns (`rows × k`, `UᵀU`) or rows (`k × cols`, `VVᵀ`). */
function gram(data: Float32Array | Int8Array, rows: number, cols: number, of: 'columns' | 'rows'): Float64Array {
  if (of === 'columns' && cols === 4) return columnGram4(data, rows);
  const k = of === 'columns' ? cols : rows;
  const out = new Float64Array(k * k);
  // The upper triangle, mirrored: the matrix is symmetric.
  for (let a = 0; a < k; a++) {
    for (let b = a; b < k; b++) {
      let dot = 0;
      if (of === 'columns') {
        // Column against column, strided: k is small, so a loop over it would be mostly overhead.
        for (let i = 0; i < rows * k; i += k) dot += (data[i + a] as number) * (data[i + b] as number);
      } else {
        const first = a * cols;
        const second = b * cols;
        for (let j = 0; j < cols; j++) dot += (data[first + j] as number) * (data[second + j] as number);
      }
      out[a * k + b] = dot;
      out[b * k + a] = dot;
    }
  }
  return out;
}

/**
 * {@link gram} of the columns of a `rows × 4` matrix, the rank devices send (`UPDATE_RANK`),
 * in one pass over its rows: four times faster than a strided pass per pair of columns.
 */
function columnGram4(data: Float32Array | Int8Array, rows: number): Float64Array {
  let g00 = 0;
  let g01 = 0;
  let g02 = 0;
  let g03 = 0;
  let g11 = 0;
  let g12 = 0;
  let g13 = 0;
  let g22 = 0;
  let g23 = 0;
  let g33 = 0;
  for (let i = 0; i < 4 * rows; i += 4) {
    const a = data[i] as number;
    const b = data[i + 1] as number;
    const c = data[i + 2] as number;
    const d = data[i + 3] as number;
    g00 += a * a;
    g01 += a * b;
    g02 += a * c;
    g03 += a * d;
    g11 += b * b;
    g12 += b * c;
    g13 += b * d;
    g22 += c * c;
    g23 += c * d;
    g33 += d * d;
  }
  return Float64Array.of(g00, g01, g02, g03, g01, g11, g12, g13, g02, g12, g22, g23, g03, g13, g23, g33);
}
