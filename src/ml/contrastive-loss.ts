import * as tf from '@tensorflow/tfjs-core';

/**
 * The contrastive term's loss and its gradients, for two views of one batch of histories: `first`
 * and `second` hold each history's vector from each view, `[b, D]`. With S = first · secondᵀ / τ,
 * each history's vector in one view should pick out its own in the other among the batch's:
 *
 *   loss = ½ · mean over i of (logsumexp(S[i, :]) − S[i, i]) + ½ · mean over j of (logsumexp(S[:, j]) − S[j, j])
 *
 * (InfoNCE both ways, as in CL4SRec and DuoRec). Two histories with the same `targets` row are not
 * each other's negatives: they lead to the same item, and pushing them apart would fight the main
 * loss (DuoRec's false-negative removal).
 */
export function infoNce(
  first: tf.Tensor2D,
  second: tf.Tensor2D,
  targets: tf.Tensor1D,
  temperature: number,
): { loss: tf.Scalar; dFirst: tf.Tensor2D; dSecond: tf.Tensor2D } {
  const size = first.shape[0];
  const identity = tf.eye(size);
  const sameTarget = tf.cast(tf.equal(tf.expandDims(targets, 1), tf.expandDims(targets, 0)), 'float32');
  // Finite, as the item scores' padding is: a half-precision GPU must not overflow.
  const excluded = tf.mul(tf.sub(sameTarget, identity), EXCLUDED);
  const similarities = tf.add(tf.div(tf.matMul(first, tf.transpose(second)), temperature), excluded) as tf.Tensor2D;
  const byRow = tf.softmax(similarities) as tf.Tensor2D;
  const byColumn = tf.transpose(tf.softmax(tf.transpose(similarities))) as tf.Tensor2D;
  // −log of the positive's probability each way: logsumexp − S[i, i], with logsumexp = max − log(max(softmax)),
  // finite where a far-off positive's probability underflows, and from kernels the model runs anyway.
  const positive = (scores: tf.Tensor2D, probabilities: tf.Tensor2D, axis: number) =>
    tf.mean(
      tf.sub(tf.sub(tf.max(scores, axis), tf.log(tf.max(probabilities, axis))), tf.sum(tf.mul(scores, identity), axis)),
    );
  const loss = tf.mul(tf.add(positive(similarities, byRow, 1), positive(similarities, byColumn, 0)), 0.5) as tf.Scalar;
  const dSimilarities = tf.div(tf.sub(tf.add(byRow, byColumn), tf.mul(identity, 2)), 2 * size * temperature);
  return {
    loss,
    dFirst: tf.matMul(dSimilarities, second) as tf.Tensor2D,
    dSecond: tf.matMul(tf.transpose(dSimilarities), first) as tf.Tensor2D,
  };
}

/** How far below the rest a pair that is not a negative is pushed. */
const EXCLUDED = -1e4;
