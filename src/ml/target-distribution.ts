import * as tf from '@tensorflow/tfjs-core';
import { OmniPersonaError } from '../core/errors.js';
import type { SequenceBatch } from './recommender-maths.js';

/*
 * What the cross-entropy of `lossAndGradients` (recommender-maths.ts) is taken against: the target
 * distribution q over the items, and the items each example's softmax leaves out.
 */

/**
 * 1 where an item is among a history's steps and is not its target, else 0: `[b, items]`, from the
 * targets' one-hot rows.
 */
export function seenItems(batch: SequenceBatch, oneHot: tf.Tensor2D): tf.Tensor2D {
  const [size, length] = batch.mask.shape;
  if (size !== oneHot.shape[0]) {
    throw new OmniPersonaError('INVALID_PAYLOAD', `Expected ${oneHot.shape[0]} seen histories, received ${size}`);
  }
  const rows = tf.reshape(tf.tile(tf.expandDims(tf.range(0, size, 1, 'int32'), 1), [1, length]), [-1]);
  // Padding steps add 0; a step's item counted twice still marks 1.
  const counts = tf.scatterND(tf.stack([rows, batch.items], 1), tf.reshape(batch.mask, [-1]), oneHot.shape);
  return tf.mul(tf.step(counts), tf.sub(1, oneHot)) as tf.Tensor2D;
}

/**
 * q for each example, `[b, items]`, rows summing to 1 over the items its softmax ranks: the
 * one-hot target, with ε (`labelSmoothing`) spread evenly over those items, then mixed with α
 * (`teacher.weight`) of a teacher's predictions. Items `seen` leaves out get none of q.
 */
export function targetDistribution(
  oneHot: tf.Tensor2D,
  options: {
    seen?: tf.Tensor2D | undefined;
    labelSmoothing: number;
    teacher?: { probabilities: tf.Tensor2D; weight: number } | undefined;
  },
): tf.Tensor2D {
  const { seen, labelSmoothing, teacher } = options;
  const items = oneHot.shape[1];
  let wanted = oneHot;
  if (labelSmoothing > 0) {
    const spread = seen ? tf.div(tf.sub(1, seen), tf.sub(items, tf.sum(seen, 1, true))) : 1 / items;
    wanted = tf.add(tf.mul(oneHot, 1 - labelSmoothing), tf.mul(spread, labelSmoothing)) as tf.Tensor2D;
  }
  if (teacher) {
    // The teacher's mass on items this softmax leaves out goes to the others, in proportion.
    const taught = seen ? tf.mul(teacher.probabilities, tf.sub(1, seen)) : teacher.probabilities;
    const share = seen ? tf.div(taught, tf.sum(taught, 1, true)) : taught;
    wanted = tf.add(tf.mul(wanted, 1 - teacher.weight), tf.mul(share, teacher.weight)) as tf.Tensor2D;
  }
  return wanted;
}
