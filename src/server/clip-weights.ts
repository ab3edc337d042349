import { type WeightSet, weightsNorm } from '../core/model/weights.js';

/**
 * Scales `weights` down so that their L2 norm is at most `maxNorm`; returns them unchanged when it is.
 * Clipping every update bounds how far one device, honest or not, can move the global model.
 */
export function clipWeights(weights: WeightSet, maxNorm: number): { weights: WeightSet; norm: number } {
  const norm = weightsNorm(weights);
  if (norm <= maxNorm) return { weights, norm };
  const scale = maxNorm / norm;
  const clipped: WeightSet = {};
  for (const [name, tensor] of Object.entries(weights)) {
    clipped[name] = { shape: [...tensor.shape], data: tensor.data.map((value) => value * scale) };
  }
  return { weights: clipped, norm };
}
