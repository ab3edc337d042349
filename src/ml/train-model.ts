import * as tf from '@tensorflow/tfjs-core';
import { OmniPersonaError } from '../core/errors.js';
import type { TrainingExample, TrainOptions } from '../core/model/model-runtime.js';
import { HISTORY_LENGTH } from '../core/model/model-spec.js';
import { seededRandom } from '../core/random.js';
import { checkExample } from './model-inputs.js';
import type { RecommenderModel, StepOptions, Teacher } from './recommender-model.js';

/** Defaults of {@link TrainOptions}, kept in one place. */
export const TRAIN_DEFAULTS: Required<Omit<TrainOptions, 'seed'>> = {
  epochs: 5,
  learningRate: 0.002,
  adamEpsilon: 1e-7,
  timeBudgetMs: 2000,
  dropout: 0.5,
  stepDropout: 0,
  contrastiveWeight: 0,
  contrastiveTemperature: 1,
  contrastivePositive: 'augmented',
  labelSmoothing: 0,
  excludeSeen: false,
  stayNear: 0,
  keepShare: 1,
  optimizer: 'adam',
};

/** {@link trainModel}'s options beyond a device's: what a long offline run wants. */
export interface TrainModelOptions extends TrainOptions {
  /**
   * The learning rate at the last step, reached by a linear decay from `learningRate` over every
   * step the epochs hold; constant when omitted.
   */
  finalLearningRate?: number;
  /** Called after each full pass with its number (from 1) and the mean loss of its steps. */
  onEpoch?: (epoch: number, meanLoss: number) => void;
  /**
   * Polyak averaging: when set, the model ends with an exponential moving average of its weights
   * after each step, `a ← decay · a + (1 − decay) · w`, instead of the last step's weights; a decay
   * of 1 − 1/n averages over about the last n steps. Off when omitted.
   */
  averageDecay?: number;
  /**
   * Knowledge distillation: a trained model with the same items (or several averaged: `Teacher`),
   * whose predictions for each example's whole history make `weight` of its target (the rest is the
   * next item). Off when omitted.
   */
  teacher?: { model: Teacher; weight: number };
}

/** Examples per optimizer step. */
export const BATCH_SIZE = 128;

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
 * @throws OmniPersonaError `INVALID_PAYLOAD` before any step when an example does not fit the model,
 * or `keepShare` is outside [0, 1].
 */
export async function trainModel(
  model: RecommenderModel,
  examples: readonly TrainingExample[],
  options: TrainModelOptions = {},
  seed = 1,
): Promise<TrainResult> {
  const { finalLearningRate, onEpoch, averageDecay, teacher } = options;
  const {
    epochs,
    learningRate,
    timeBudgetMs,
    dropout,
    stepDropout,
    contrastiveWeight,
    contrastiveTemperature,
    contrastivePositive,
    labelSmoothing,
    excludeSeen,
    stayNear,
    optimizer: method,
    adamEpsilon,
    keepShare,
  } = { ...TRAIN_DEFAULTS, ...options };
  if (!(keepShare >= 0 && keepShare <= 1)) {
    throw new OmniPersonaError('INVALID_PAYLOAD', `keepShare should be in [0, 1], received ${keepShare}`);
  }
  if (!(stepDropout >= 0 && stepDropout < 1)) {
    throw new OmniPersonaError('INVALID_PAYLOAD', `stepDropout should be in [0, 1), received ${stepDropout}`);
  }
  if (!(contrastiveWeight >= 0 && Number.isFinite(contrastiveWeight))) {
    throw new OmniPersonaError(
      'INVALID_PAYLOAD',
      `contrastiveWeight should be a finite number of at least 0, received ${contrastiveWeight}`,
    );
  }
  if (!(contrastiveTemperature > 0 && Number.isFinite(contrastiveTemperature))) {
    throw new OmniPersonaError(
      'INVALID_PAYLOAD',
      `contrastiveTemperature should be a positive finite number, received ${contrastiveTemperature}`,
    );
  }
  if (!(labelSmoothing >= 0 && labelSmoothing < 1)) {
    throw new OmniPersonaError('INVALID_PAYLOAD', `labelSmoothing should be in [0, 1), received ${labelSmoothing}`);
  }
  if (averageDecay !== undefined && !(averageDecay >= 0 && averageDecay < 1)) {
    throw new OmniPersonaError('INVALID_PAYLOAD', `averageDecay should be in [0, 1), received ${averageDecay}`);
  }
  if (teacher && !(teacher.weight >= 0 && teacher.weight <= 1)) {
    throw new OmniPersonaError('INVALID_PAYLOAD', `teacher.weight should be in [0, 1], received ${teacher.weight}`);
  }
  if (teacher && teacher.model.config.items !== model.config.items) {
    throw new OmniPersonaError(
      'INVALID_PAYLOAD',
      `The teacher ranks ${teacher.model.config.items} items, the model ${model.config.items}`,
    );
  }
  for (const example of examples) checkExample(example, model.config.items);
  const result: TrainResult = { steps: 0, loss: Number.NaN, initialLoss: Number.NaN };
  if (examples.length === 0) return result;
  const random = seededRandom(seed);
  const deadline = performance.now() + timeBudgetMs;
  // Asked before anything is allocated that a failure here would leave behind.
  const holdBack = keepShare < 1 && (await knowsAbout(model, examples));
  const optimizer =
    method === 'sgd' ? tf.train.sgd(learningRate) : tf.train.adam(learningRate, 0.9, 0.999, adamEpsilon);
  // The weights this call starts from (the global model, on a device) are what a fine-tune stays near.
  const anchor = stayNear > 0 ? { tensors: model.snapshot(), strength: stayNear } : undefined;
  const start = holdBack ? model.snapshot('all') : undefined;
  const average = averageDecay === undefined ? undefined : model.snapshot('all');
  const sameNextItem = contrastiveWeight > 0 && contrastivePositive === 'sameNextItem' ? byTarget(examples) : undefined;
  const stepsPerEpoch = Math.ceil(examples.length / BATCH_SIZE);
  const decayPerStep =
    finalLearningRate === undefined ? 0 : (learningRate - finalLearningRate) / Math.max(1, epochs * stepsPerEpoch - 1);
  let last: TrainingExample[] = [];
  try {
    training: for (let epoch = 0; epoch < epochs; epoch++) {
      let epochLoss = 0;
      for (const indices of batchesOf(examples, random)) {
        // The first step compiles shaders on GPU backends; it never counts against the budget.
        if (result.steps > 1 && performance.now() >= deadline) break training;
        if (decayPerStep !== 0) setLearningRate(optimizer, learningRate - decayPerStep * result.steps);
        const drawn = indices.map((index) => examples[index] as TrainingExample);
        last = stepDropout > 0 ? drawn.map((example) => withoutSomeSteps(example, stepDropout, random)) : drawn;
        const stepOptions: StepOptions = { dropout, seed: stepSeed(seed, result.steps), labelSmoothing };
        if (anchor) stepOptions.anchor = anchor;
        // The whole history: a step left out of this pass' reading was still seen.
        if (excludeSeen) stepOptions.seen = drawn.map((example) => example.history);
        // The teacher reads each history whole, steps left out of this pass' reading included.
        if (teacher) {
          stepOptions.teacher = { ...teacher, histories: drawn.map((example) => example.history) };
        }
        if (contrastiveWeight > 0) {
          // The second view: the same history, or another with the same next item, with a draw of its own.
          const positives = sameNextItem
            ? indices.map(
                (index) => examples[otherWithSameTarget(index, examples, sameNextItem, random)] as TrainingExample,
              )
            : drawn;
          const views = positives.map((example) =>
            stepDropout > 0 ? withoutSomeSteps(example, stepDropout, random).history : example.history,
          );
          stepOptions.contrastive = { views, weight: contrastiveWeight, temperature: contrastiveTemperature };
        }
        const loss = model.trainStep(optimizer, last, stepOptions);
        try {
          const value = (await loss.data())[0] as number;
          if (result.steps === 0) result.initialLoss = value;
          epochLoss += value;
        } finally {
          loss.dispose();
        }
        result.steps++;
        if (average) model.moveAverage(average, averageDecay as number);
      }
      onEpoch?.(epoch + 1, epochLoss / stepsPerEpoch);
    }
    if (average) model.keepShare(average, 0);
    if (start) model.keepShare(start, keepShare);
    // The step's own loss is from before its update: measure the last batch after it.
    result.loss = await model.loss(last);
    return result;
  } finally {
    optimizer.dispose();
    if (anchor) tf.dispose(Object.values(anchor.tensors));
    if (start) tf.dispose(Object.values(start));
    if (average) tf.dispose(Object.values(average));
  }
}

/**
 * A starting model whose predictions for a run's examples are within this many nats of a uniform
 * guess over the items (an entropy of log of their count) has learnt nothing yet: `keepShare` does
 * not hold it back.
 */
export const INFORMED_MARGIN = 1;

/**
 * Whether `model` has learnt anything it could lose: whether its predictions for (the first batch
 * of) `examples` are further than {@link INFORMED_MARGIN} from uniform. A global model that has
 * learnt from nobody yet (a fresh server's) predicts every item alike, and a fine-tune from it keeps
 * all it learns. The test is on the predictions' spread, not on their loss: a trained model can
 * predict a shopper with unusual taste worse than chance and still hold what it learnt from others.
 */
async function knowsAbout(model: RecommenderModel, examples: readonly TrainingExample[]): Promise<boolean> {
  const entropy = await model.predictionEntropy(examples.slice(0, BATCH_SIZE).map((example) => example.history));
  return entropy < Math.log(model.config.items) - INFORMED_MARGIN;
}

/** The dropout seed of step `step` (from 0) of a {@link trainModel} call with `seed`. */
export function stepSeed(seed: number, step: number): number {
  return seed * 1_000_003 + step;
}

/** Sets the rate of the next steps: TF.js' Adam reads its (protected) rate at every step. */
function setLearningRate(optimizer: tf.SGDOptimizer | tf.AdamOptimizer, rate: number): void {
  // Not `instanceof`: TF.js' optimizers answer it by duck typing, and Adam passes for SGD.
  if ('setLearningRate' in optimizer) optimizer.setLearningRate(rate);
  else (optimizer as unknown as { learningRate: number }).learningRate = rate;
}

/** `example` with each step of its history but the last left out with chance `rate`. */
function withoutSomeSteps(example: TrainingExample, rate: number, random: () => number): TrainingExample {
  const { items, signals } = example.history;
  const kept: number[] = [];
  for (let step = 0; step < items.length; step++) {
    if (step === items.length - 1 || random() >= rate) kept.push(step);
  }
  if (kept.length === items.length) return example;
  const history = {
    ...example.history,
    items: Int32Array.from(kept, (step) => items[step] as number),
    signals: Int32Array.from(kept, (step) => signals[step] as number),
  };
  return { ...example, history };
}

/** The indices of `examples` by their target. */
function byTarget(examples: readonly TrainingExample[]): Map<number, number[]> {
  const indices = new Map<number, number[]>();
  examples.forEach((example, index) => {
    const list = indices.get(example.target);
    if (list) list.push(index);
    else indices.set(example.target, [index]);
  });
  return indices;
}

/** Another example's index with the same target as example `index`, at random; `index` itself when there is none. */
function otherWithSameTarget(
  index: number,
  examples: readonly TrainingExample[],
  indices: Map<number, number[]>,
  random: () => number,
): number {
  const same = indices.get((examples[index] as TrainingExample).target) ?? [];
  if (same.length < 2) return index;
  // A draw among the others: skip over `index` itself.
  const drawn = same[Math.floor(random() * (same.length - 1))] as number;
  return drawn === index ? (same[same.length - 1] as number) : drawn;
}

/** Batches that {@link batchesOf} sorts together by history length. */
export const LENGTH_WINDOW = 32;

/**
 * One epoch's batches of `examples` (indices, {@link BATCH_SIZE} each but the last): shuffled, then
 * each run of {@link LENGTH_WINDOW} batches sorted by history length and cut, and the batches
 * shuffled again. A batch is padded to fit its longest history (`sequenceBatch`), and most
 * histories are short (on Beauty half have 4 steps or fewer, a random batch of 128 nearly always
 * holds one of 50), so batches of like lengths spare most of the steps that padding would take.
 */
export function batchesOf(examples: readonly TrainingExample[], random: () => number): number[][] {
  const order = shuffled(Array.from(examples.keys()), random);
  const length = (index: number) => Math.min((examples[index] as TrainingExample).history.items.length, HISTORY_LENGTH);
  const batches: number[][] = [];
  const window = BATCH_SIZE * LENGTH_WINDOW;
  for (let start = 0; start < order.length; start += window) {
    const sorted = order.slice(start, start + window).sort((a, b) => length(a) - length(b));
    for (let from = 0; from < sorted.length; from += BATCH_SIZE) batches.push(sorted.slice(from, from + BATCH_SIZE));
  }
  return shuffled(batches, random);
}

/** `values` in a Fisher–Yates permutation (in place). */
function shuffled<T>(values: T[], random: () => number): T[] {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [values[i], values[j]] = [values[j] as T, values[i] as T];
  }
  return values;
}
