import * as tf from '@tensorflow/tfjs-core';
import { addFactorProducts } from '../core/sync/low-rank.js';
import { selectBackend } from '../ml/select-backend.js';
import type { FactorProducts } from './federated-average.js';

/**
 * Products below this many multiply-adds stay in JavaScript: a TF.js call costs tens of
 * microseconds, as much as a small product.
 */
const SMALL_PRODUCT = 1 << 15;

/**
 * `addFactorProducts` as one matrix product per tensor on TF.js' WASM backend (XNNPACK, with SIMD):
 * the pairs' `U`s side by side times their scaled `V`s stacked, `[U₁ … Uₙ] · [s₁V₁; …; sₙVₙ]`. The
 * same multiply-adds as one pair at a time, several times faster than JavaScript can do them.
 * The product is in float32, added to the float64 sums.
 *
 * Makes WASM the thread's TF.js backend: for a thread of its own, such as an update worker.
 * Undefined when the WASM backend does not start here.
 */
export async function wasmFactorProducts(): Promise<FactorProducts | undefined> {
  try {
    const { backend } = await selectBackend({ preference: 'wasm', initTimeoutMs: 30_000 });
    if (backend !== 'wasm') return undefined;
  } catch {
    return undefined;
  }
  // The operands are written here, reused from call to call (TF.js copies them onto the WASM heap
  // when it makes their tensors): a round's sum would otherwise allocate, and collect, megabytes.
  let scratch = new Float32Array(0);
  return (target, pairs) => {
    const rows = pairs[0]?.u.shape[0] ?? 0;
    const cols = pairs[0]?.v.shape[1] ?? 0;
    const inner = pairs.reduce((sum, { u }) => sum + (u.shape[1] ?? 0), 0);
    if (rows * cols * inner < SMALL_PRODUCT) {
      addFactorProducts(target, pairs);
      return;
    }
    if (scratch.length < (rows + cols) * inner) scratch = new Float32Array((rows + cols) * inner);
    const left = scratch.subarray(0, rows * inner);
    const right = scratch.subarray(rows * inner, (rows + cols) * inner);
    let offset = 0;
    for (const { u, v, scale } of pairs) {
      const k = u.shape[1] ?? 0;
      const from = u.data;
      for (let i = 0, at = 0, to = offset; i < rows; i++, at += k, to += inner) {
        for (let c = 0; c < k; c++) left[to + c] = from[at + c] as number;
      }
      for (let i = 0; i < k * cols; i++) right[offset * cols + i] = (v.data[i] as number) * scale;
      offset += k;
    }
    const product = tf.tidy(() => tf.matMul(tf.tensor2d(left, [rows, inner]), tf.tensor2d(right, [inner, cols])));
    try {
      const values = product.dataSync();
      for (let i = 0; i < values.length; i++) target[i] = (target[i] as number) + (values[i] as number);
    } finally {
      product.dispose();
    }
  };
}
