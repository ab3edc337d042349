import * as tf from '@tensorflow/tfjs-core';
import type { TrainingExample, TrainOptions } from '../core/model/model-runtime.js';
import { seededRandom } from '../core/random.js';
import { checkExample, type RecommenderModel, type StepOptions } from './recommender-model.js';

/** Defaults of {@link TrainOptions}, kept in one place. */
export const TRAIN_DEFAULTS: Required<TrainOptions> = {
  epochs: 5,
  learningRate: 0.002,
  timeBudgetMs: 2000,
  dropout: 0.5,
  stayNear: 0,
  optimizer: 'adam',
};

/** Examples per optimizer step. */
const BATCH_SIZE = 128;

/** What one {@link trainModel} call did; the runtime adds timing and the backend. */
export interface TrainResult {
  steps: number;
  /** Mean cross-entropy of the last batch after the last step. */
  loss: number;
  /** Mean cross-entropy of the first batch before the first step. */
  initialLoss: number;
}

/**
 * Mini-batch Adam over shuffled `examples` until the epochs or the time budget run out, whichever
 * first; always at least two steps, so that
 * shader compilation on a GPU backend's first step cannot end a run before it has learned anything. Adam's moments live for one call: each call may bring a new
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
  const {
    epochs,
    learningRate,
    timeBudgetMs,
    dropout,
    stayNear,
    optimizer: method,
  } = { ...TRAIN_DEFAULTS, ...options };
  for (const example of examples) checkExample(example, model.config.items);
  const result: TrainResult = { steps: 0, loss: Number.NaN, initialLoss: Number.NaN };
  if (examples.length === 0) return result;
  const random = seededRandom(seed);
  const deadline = performance.now() + timeBudgetMs;
  const optimizer = method === 'sgd' ? tf.train.sgd(learningRate) : tf.train.adam(learningRate);
  // The weights this call starts from (the global model, on a device) are what a fine-tune stays near.
  const anchor = stayNear > 0 ? { tensors: model.snapshot(), strength: stayNear } : undefined;
  let last: TrainingExample[] = [];
  try {
    training: for (let epoch = 0; epoch < epochs; epoch++) {
      const order = shuffled(examples.length, random);
      for (let start = 0; start < order.length; start += BATCH_SIZE) {
        // The first step compiles shaders on GPU backends; it never counts against the budget.
        if (result.steps > 1 && performance.now() >= deadline) break training;
        last = order.slice(start, start + BATCH_SIZE).map((index) => examples[index] as TrainingExample);
        const stepOptions: StepOptions = { dropout, seed: seed * 1_000_003 + result.steps };
        if (anchor) stepOptions.anchor = anchor;
        const loss = model.trainStep(optimizer, last, stepOptions);
        try {
          if (result.steps === 0) result.initialLoss = (await loss.data())[0] as number;
          else await loss.data();
        } finally {
          loss.dispose();
        }
        result.steps++;
      }
    }
    // The step's own loss is from before its update: measure the last batch after it.
    result.loss = await model.loss(last);
    return result;
  } finally {
    optimizer.dispose();
    if (anchor) tf.dispose(Object.values(anchor.tensors));
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
