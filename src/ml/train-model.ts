import * as tf from '@tensorflow/tfjs-core';
import type { TrainingExample, TrainOptions } from '../core/model/model-runtime.js';
import { seededRandom } from '../core/random.js';
import { checkExample, type RecommenderModel } from './recommender-model.js';

/** Defaults of {@link TrainOptions}, kept in one place. */
export const TRAIN_DEFAULTS: Required<TrainOptions> = { epochs: 5, learningRate: 0.05, timeBudgetMs: 2000 };

/** Examples per optimizer step. */
const BATCH_SIZE = 128;

/** What one {@link trainModel} call did; the runtime adds timing and the backend. */
export interface TrainResult {
  steps: number;
  loss: number;
  initialLoss: number;
}

/**
 * Mini-batch Adam over shuffled `examples` until the epochs or the time budget run out, whichever
 * first; always at least one step. Adam's moments live for one call: each call may bring a new
 * learning rate, and nothing is left behind to leak. Losses are NaN when there are no examples.
 *
 * @throws OmniPersonaError `INVALID_PAYLOAD` before any step when an example does not fit the model.
 */
export async function trainModel(
  model: RecommenderModel,
  examples: readonly TrainingExample[],
  options: TrainOptions = {},
  seed = 1,
): Promise<TrainResult> {
  const { epochs, learningRate, timeBudgetMs } = { ...TRAIN_DEFAULTS, ...options };
  for (const example of examples) checkExample(example, model.config.items);
  const result: TrainResult = { steps: 0, loss: Number.NaN, initialLoss: Number.NaN };
  if (examples.length === 0) return result;
  const random = seededRandom(seed);
  const deadline = performance.now() + timeBudgetMs;
  const optimizer = tf.train.adam(learningRate);
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      const order = shuffled(examples.length, random);
      for (let start = 0; start < order.length; start += BATCH_SIZE) {
        if (result.steps > 0 && performance.now() >= deadline) return result;
        const batch = order.slice(start, start + BATCH_SIZE).map((index) => examples[index] as TrainingExample);
        const loss = model.trainStep(optimizer, batch);
        try {
          result.loss = (await loss.data())[0] as number;
        } finally {
          loss.dispose();
        }
        if (result.steps === 0) result.initialLoss = result.loss;
        result.steps++;
      }
    }
    return result;
  } finally {
    optimizer.dispose();
  }
}

/** A Fisher–Yates permutation of `0..length-1`. */
function shuffled(length: number, random: () => number): number[] {
  const order = Array.from({ length }, (_, index) => index);
  for (let i = length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return order;
}
