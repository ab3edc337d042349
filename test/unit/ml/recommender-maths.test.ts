import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import type { HistoryInput, ItemFeatures, TrainingExample } from '../../../src/core/model/model-runtime.js';
import {
  HISTORY_LENGTH,
  initialWeights,
  type ModelConfig,
  PROFILE_INPUTS,
  SIGNALS,
  signalRow,
} from '../../../src/core/model/model-spec.js';
import type { WeightSet } from '../../../src/core/model/weights.js';
import { gaussian, seededRandom } from '../../../src/core/random.js';
import { BATCH_LENGTHS, sequenceBatch } from '../../../src/ml/model-inputs.js';
import {
  dropoutMasks,
  lossAndGradients,
  type RecommenderGradients,
  type RecommenderParams,
  type SequenceBatch,
} from '../../../src/ml/recommender-maths.js';
import { RecommenderModel, TENSOR_NAMES } from '../../../src/ml/recommender-model.js';
import { selectBackend } from '../../../src/ml/select-backend.js';
import {
  type ReferenceDropout,
  type ReferenceWeights,
  referenceContrastive,
  referenceLoss,
  referenceScores,
} from './reference-recommender.js';

const config: ModelConfig = { items: 6, categories: 3, brands: 3, dim: 3 };
// Shared side features, so that gradients must add up in their rows: items 0, 2 and 5 share category
// 1; items 1, 3 and 4 brand 1; items 0 and 2 price band 3, items 1 and 5 band 1. Row 0 is "unknown".
const features: ItemFeatures = {
  categories: Int32Array.from([1, 2, 1, 0, 2, 1]),
  brands: Int32Array.from([0, 1, 2, 1, 1, 0]),
  priceBands: Int32Array.from([3, 1, 3, 0, 5, 1]),
};

/** The spec name of each gradient: the model's own tensor names. */
const NAMES: Record<keyof RecommenderGradients, string> = TENSOR_NAMES;

/** A history of the given item rows, with random signals and, unless `neutral`, a random profile. */
function history(items: number[], seed: number, neutral = false): HistoryInput {
  const random = seededRandom(seed);
  const input: HistoryInput = {
    items: Int32Array.from(items),
    signals: Int32Array.from(items, () => Math.floor(random() * SIGNALS)),
  };
  if (!neutral) input.profile = Float32Array.from({ length: PROFILE_INPUTS }, () => random());
  return input;
}

// Histories of 0, 1, 4 and all HISTORY_LENGTH steps (so that every position row is used), one
// without a profile; items repeat within a history.
const examples: TrainingExample[] = [
  { history: history([0, 1, 0, 4], 1), target: 2 },
  {
    history: { items: Int32Array.from([4]), signals: Int32Array.from([signalRow('cart', 7_200_000)]) },
    target: 4,
  },
  { history: history([], 3), target: 5 },
  { history: history([3, 5, 2, 2], 4, true), target: 0 },
  {
    history: history(
      Array.from({ length: HISTORY_LENGTH }, (_, k) => (k * 5) % 6),
      5,
    ),
    target: 3,
  },
];

/** Non-trivial weights: every tensor random, so that no gradient vanishes by construction. */
function randomWeights(): WeightSet {
  const weights = initialWeights(config, 3);
  const random = seededRandom(11);
  for (const tensor of Object.values(weights)) {
    for (let i = 0; i < tensor.data.length; i++) tensor.data[i] = 0.5 * gaussian(random);
  }
  return weights;
}

function toParams(weights: WeightSet): RecommenderParams {
  const tensor = <T extends tf.Tensor>(name: string) => {
    const { data, shape } = weights[name] as { data: Float32Array; shape: number[] };
    return tf.tensor(data, shape, 'float32') as T;
  };
  const trained = Object.fromEntries(Object.entries(NAMES).map(([key, name]) => [key, tensor(name)]));
  return {
    ...(trained as unknown as RecommenderGradients),
    categories: tf.tensor1d(features.categories, 'int32'),
    brands: tf.tensor1d(features.brands, 'int32'),
    priceBands: tf.tensor1d(features.priceBands, 'int32'),
  };
}

/** The examples' histories as the maths reads them: right-aligned, padding masked, profiles 0.5 when unknown. */
function toBatch(batch: readonly TrainingExample[]): SequenceBatch {
  const items: number[] = [];
  const signals: number[] = [];
  const mask: number[][] = [];
  const profiles: number[][] = [];
  for (const { history } of batch) {
    const padding = HISTORY_LENGTH - history.items.length;
    items.push(...new Array<number>(padding).fill(0), ...history.items);
    signals.push(...new Array<number>(padding).fill(0), ...history.signals);
    mask.push([...new Array<number>(padding).fill(0), ...new Array<number>(history.items.length).fill(1)]);
    profiles.push(Array.from(history.profile ?? new Array<number>(PROFILE_INPUTS).fill(0.5)));
  }
  return {
    items: tf.tensor1d(items, 'int32'),
    signals: tf.tensor1d(signals, 'int32'),
    mask: tf.tensor2d(mask),
    profiles: tf.tensor2d(profiles),
  };
}

// The contrastive term's batch: the examples plus one that leads to the same item as the first (so
// the two are not each other's negatives), each with a second view that lacks its oldest step.
const contrasted: TrainingExample[] = [...examples, { history: history([1, 3, 5], 7), target: 2 }];
const views: HistoryInput[] = contrasted.map(({ history }) => ({
  ...history,
  items: history.items.slice(history.items.length > 1 ? 1 : 0),
  signals: history.signals.slice(history.items.length > 1 ? 1 : 0),
}));

/**
 * Seen histories that are not the batch's own: each also saw item 1, as a step left out of the
 * batch's reading would have been. The last example has seen the whole catalog.
 */
function seenHistories(): HistoryInput[] {
  return examples.map((example) => ({
    ...example.history,
    items: Int32Array.from([...example.history.items, 1].slice(-HISTORY_LENGTH)),
    signals: Int32Array.from([...example.history.signals, 0].slice(-HISTORY_LENGTH)),
  }));
}

function targets(batch: readonly TrainingExample[]): tf.Tensor1D {
  return tf.tensor1d(
    batch.map((example) => example.target),
    'int32',
  );
}

/** Float64 copies of the weights, so that central differences step exactly. */
function float64(weights: WeightSet): Record<string, { data: Float64Array }> {
  return Object.fromEntries(
    Object.entries(weights).map(([name, { data }]) => [name, { data: Float64Array.from(data) }]),
  );
}

/** Central differences of `loss`, one weight of tensor `name` at a time. */
function numericGradient(
  weights: Record<string, { data: Float64Array }>,
  name: string,
  loss: (weights: ReferenceWeights) => number,
): Float64Array {
  const data = (weights[name] as { data: Float64Array }).data;
  const step = 1e-5;
  return Float64Array.from(data, (original, i) => {
    data[i] = original + step;
    const plus = loss(weights);
    data[i] = original - step;
    const minus = loss(weights);
    data[i] = original;
    return (plus - minus) / (2 * step);
  });
}

/** The gradient's elements that differ from the reference's central differences, as readable lines. */
async function mismatches(
  gradients: RecommenderGradients,
  weights: WeightSet,
  loss: (weights: ReferenceWeights) => number,
): Promise<string[]> {
  const copy = float64(weights);
  const problems: string[] = [];
  for (const [key, name] of Object.entries(NAMES) as [keyof RecommenderGradients, string][]) {
    const expected = numericGradient(copy, name, loss);
    const actual = await gradients[key].data();
    if (actual.length !== expected.length)
      problems.push(`${name}: ${actual.length} values, expected ${expected.length}`);
    // The data must make every tensor matter; else a wrong gradient of zero would pass.
    if (!expected.some((value) => Math.abs(value) > 1e-3)) problems.push(`${name}: the loss does not depend on it`);
    for (const [i, value] of expected.entries()) {
      const difference = Math.abs((actual[i] ?? Number.NaN) - value);
      if (!(difference < 1e-4 + 1e-3 * Math.abs(value)))
        problems.push(`${name}[${i}]: ${actual[i]}, expected ${value}`);
    }
  }
  return problems;
}

/** One history's masks, read back from the batch's mask tensors. */
async function referenceMasks(masks: { steps: tf.Tensor3D; hidden: tf.Tensor2D }): Promise<ReferenceDropout[]> {
  const [size, length, dim] = masks.steps.shape;
  const steps = await masks.steps.data();
  const hidden = await masks.hidden.data();
  return Array.from({ length: size }, (_, b) => ({
    steps: steps.slice(b * length * dim, (b + 1) * length * dim),
    hidden: hidden.slice(b * dim, (b + 1) * dim),
  }));
}

describe.each(['cpu', 'wasm'] as const)('recommender maths on %s', (backend) => {
  beforeAll(async () => {
    expect((await selectBackend({ preference: backend, initTimeoutMs: 10_000 })).backend).toBe(backend);
  });

  test('scores match the float64 reference of the model spec', async () => {
    const weights = randomWeights();
    // Through the model, which right-aligns the histories itself: one is longer than the model
    // reads, and only its last HISTORY_LENGTH steps count.
    const long = history(
      Array.from({ length: HISTORY_LENGTH + 7 }, (_, k) => (k * 7 + 1) % 6),
      6,
    );
    const histories = [...examples.map((example) => example.history), long];
    const model = RecommenderModel.create(config, weights, features);
    const actual = await model.scoreMany(histories);
    model.dispose();
    expect(actual).toHaveLength(histories.length * config.items);
    histories.forEach((input, row) => {
      const expected = referenceScores(weights, features, input);
      for (const [item, value] of expected.entries()) {
        expect(actual[row * config.items + item]).toBeCloseTo(value, 5);
      }
    });
    // Different histories get different scores: the reference comparison is not of constants.
    expect(referenceScores(weights, features, long)).not.toEqual(
      referenceScores(weights, features, (examples[0] as TrainingExample).history),
    );
  });

  test('loss and every gradient match the reference and its central differences', async () => {
    const weights = randomWeights();
    const result = tf.tidy(() => {
      const { loss, gradients } = lossAndGradients(toParams(weights), toBatch(examples), targets(examples));
      return { loss, gradients };
    });
    const loss = await result.loss.data();
    expect(loss).toHaveLength(1);
    expect(loss[0]).toBeCloseTo(referenceLoss(weights, features, examples), 5);
    expect(await mismatches(result.gradients, weights, (w) => referenceLoss(w, features, examples))).toEqual([]);
    tf.dispose([result.loss, ...Object.values(result.gradients)]);
  });

  test('a batch padded to fewer steps has the loss and gradients of one padded to HISTORY_LENGTH', async () => {
    const weights = randomWeights();
    // Histories of 4, 1, 0 and 4 steps: the batch the model builds holds 8 steps each.
    const short = examples.slice(0, 4);
    const trimmed = sequenceBatch(short.map((example) => example.history));
    expect(trimmed.mask.shape).toEqual([short.length, BATCH_LENGTHS[0]]);
    const [padded, cut] = [toBatch(short), trimmed].map((batch) =>
      tf.tidy(() => lossAndGradients(toParams(weights), batch, targets(short))),
    ) as [ReturnType<typeof lossAndGradients>, ReturnType<typeof lossAndGradients>];
    expect((await cut.loss.data())[0]).toBeCloseTo((await padded.loss.data())[0] as number, 6);
    for (const key of Object.keys(NAMES) as (keyof RecommenderGradients)[]) {
      const expected = await padded.gradients[key].data();
      const actual = await cut.gradients[key].data();
      expect(actual, key).toHaveLength(expected.length);
      for (const [i, value] of expected.entries()) expect(actual[i], `${key}[${i}]`).toBeCloseTo(value, 4);
    }
    tf.dispose([
      ...Object.values(trimmed),
      ...[padded, cut].flatMap((part) => [part.loss, ...Object.values(part.gradients)]),
    ]);
  });

  test('with label smoothing, loss and every gradient match the smoothed reference', async () => {
    const weights = randomWeights();
    const epsilon = 0.3;
    const result = tf.tidy(() => {
      const { loss, gradients } = lossAndGradients(toParams(weights), toBatch(examples), targets(examples), {
        labelSmoothing: epsilon,
      });
      return { loss, gradients };
    });
    // Against q = (1 − ε) · one-hot + ε / items: (1 − ε) · CE(target) + ε · the mean CE over every item.
    const objective = (w: ReferenceWeights) =>
      (1 - epsilon) * referenceLoss(w, features, examples) +
      (epsilon / config.items) *
        Array.from({ length: config.items }, (_, item) =>
          referenceLoss(
            w,
            features,
            examples.map((example) => ({ ...example, target: item })),
          ),
        ).reduce((total, loss) => total + loss, 0);
    expect(objective(weights)).not.toBeCloseTo(referenceLoss(weights, features, examples), 2);
    expect((await result.loss.data())[0]).toBeCloseTo(objective(weights), 5);
    expect(await mismatches(result.gradients, weights, objective)).toEqual([]);
    tf.dispose([result.loss, ...Object.values(result.gradients)]);
  });

  test('with seen items left out, loss and every gradient match the reference over the unseen items', async () => {
    const weights = randomWeights();
    const seen = seenHistories();
    const run = (labelSmoothing: number) =>
      tf.tidy(() => {
        const { loss, gradients } = lossAndGradients(toParams(weights), toBatch(examples), targets(examples), {
          seen: toBatch(seen.map((history, i) => ({ history, target: (examples[i] as TrainingExample).target }))),
          labelSmoothing,
        });
        return { loss, gradients };
      });
    // Each example's softmax over the items its seen history lacks, and its target; with label
    // smoothing ε, (1 − ε) on the target and ε spread over those same items.
    const objective = (epsilon: number) => (w: ReferenceWeights) =>
      examples.reduce((total, { history, target }, i) => {
        const scores = Array.from(referenceScores(w, features, history));
        const held = new Set((seen[i] as HistoryInput).items);
        const ranked = scores.flatMap((_, item) => (item === target || !held.has(item) ? [item] : []));
        const top = Math.max(...ranked.map((item) => scores[item] as number));
        const logSumExp =
          top + Math.log(ranked.reduce((sum, item) => sum + Math.exp((scores[item] as number) - top), 0));
        const spread = ranked.reduce((sum, item) => sum + logSumExp - (scores[item] as number), 0) / ranked.length;
        return total + (1 - epsilon) * (logSumExp - (scores[target] as number)) + epsilon * spread;
      }, 0) / examples.length;
    expect(objective(0)(weights)).not.toBeCloseTo(referenceLoss(weights, features, examples), 2);
    for (const epsilon of [0, 0.3]) {
      const result = run(epsilon);
      expect((await result.loss.data())[0]).toBeCloseTo(objective(epsilon)(weights), 5);
      expect(await mismatches(result.gradients, weights, objective(epsilon))).toEqual([]);
      tf.dispose([result.loss, ...Object.values(result.gradients)]);
    }
  });

  test("with a teacher, loss and every gradient match the reference against the teacher's share of each target", async () => {
    const weights = randomWeights();
    const share = 0.4;
    const random = seededRandom(29);
    // A teacher's predictions: a distribution over the items for each example, fixed.
    const predictions = examples.map(() => {
      const raw = Array.from({ length: config.items }, () => random() + 0.05);
      const total = raw.reduce((sum, value) => sum + value, 0);
      return raw.map((value) => value / total);
    });
    // The teacher's mass on seen items goes to the ranked ones in proportion.
    const seen = seenHistories();
    const run = (withSeen: boolean) =>
      tf.tidy(() => {
        const { loss, gradients } = lossAndGradients(toParams(weights), toBatch(examples), targets(examples), {
          teacher: { probabilities: tf.tensor2d(predictions), weight: share },
          ...(withSeen
            ? {
                seen: toBatch(seen.map((history, i) => ({ history, target: (examples[i] as TrainingExample).target }))),
              }
            : {}),
        });
        return { loss, gradients };
      });
    // (1 − α) · CE(target) + α · Σ over the ranked items of the teacher's renormalised share × CE(item).
    const objective = (withSeen: boolean) => (w: ReferenceWeights) =>
      examples.reduce((total, { history, target }, i) => {
        const scores = Array.from(referenceScores(w, features, history));
        const held = new Set(withSeen ? (seen[i] as HistoryInput).items : []);
        const ranked = scores.flatMap((_, item) => (item === target || !held.has(item) ? [item] : []));
        const top = Math.max(...ranked.map((item) => scores[item] as number));
        const logSumExp =
          top + Math.log(ranked.reduce((sum, item) => sum + Math.exp((scores[item] as number) - top), 0));
        const teacher = predictions[i] as number[];
        const mass = ranked.reduce((sum, item) => sum + (teacher[item] as number), 0);
        const taught = ranked.reduce(
          (sum, item) => sum + ((teacher[item] as number) / mass) * (logSumExp - (scores[item] as number)),
          0,
        );
        return total + (1 - share) * (logSumExp - (scores[target] as number)) + share * taught;
      }, 0) / examples.length;
    expect(objective(false)(weights)).not.toBeCloseTo(referenceLoss(weights, features, examples), 2);
    expect(objective(true)(weights)).not.toBeCloseTo(objective(false)(weights), 2);
    for (const withSeen of [false, true]) {
      const result = run(withSeen);
      expect((await result.loss.data())[0]).toBeCloseTo(objective(withSeen)(weights), 5);
      expect(await mismatches(result.gradients, weights, objective(withSeen))).toEqual([]);
      tf.dispose([result.loss, ...Object.values(result.gradients)]);
    }
  });

  test('seen histories must match the batch one for one', () => {
    const weights = randomWeights();
    expect(() =>
      tf.tidy(() => {
        lossAndGradients(toParams(weights), toBatch(examples), targets(examples), {
          seen: toBatch(examples.slice(1)),
        });
      }),
    ).toThrow(/Expected 5 seen histories, received 4/u);
  });

  test('with dropout masks, loss and every gradient match the reference under the same masks', async () => {
    const weights = randomWeights();
    const result = tf.tidy(() => {
      const masks = dropoutMasks(examples.length, HISTORY_LENGTH, config.dim, 0.3, 17);
      const { loss, gradients } = lossAndGradients(toParams(weights), toBatch(examples), targets(examples), {
        dropout: masks,
      });
      return { loss, gradients, masks: { steps: masks.steps, hidden: masks.hidden } };
    });
    const masks = await referenceMasks(result.masks);
    // Masks of the stated rate: kept units scaled by 1 / (1 − rate), some dropped in both layers.
    for (const values of [masks.flatMap((m) => Array.from(m.steps)), masks.flatMap((m) => Array.from(m.hidden))]) {
      expect(new Set(values.map((value) => value.toFixed(4)))).toEqual(new Set(['0.0000', (1 / 0.7).toFixed(4)]));
    }
    const expectedLoss = referenceLoss(weights, features, examples, masks);
    expect(expectedLoss).not.toBeCloseTo(referenceLoss(weights, features, examples), 2);
    expect((await result.loss.data())[0]).toBeCloseTo(expectedLoss, 5);
    expect(await mismatches(result.gradients, weights, (w) => referenceLoss(w, features, examples, masks))).toEqual([]);
    tf.dispose([result.loss, ...Object.values(result.gradients), result.masks.steps, result.masks.hidden]);
  });

  test('with a contrastive view, loss and every gradient match the reference and its central differences', async () => {
    const weights = randomWeights();
    const weight = 0.7;
    const temperature = 0.5;
    const result = tf.tidy(() => {
      const masks = dropoutMasks(contrasted.length, HISTORY_LENGTH, config.dim, 0.3, 17);
      const viewMasks = dropoutMasks(contrasted.length, HISTORY_LENGTH, config.dim, 0.3, 23);
      const { loss, gradients } = lossAndGradients(toParams(weights), toBatch(contrasted), targets(contrasted), {
        dropout: masks,
        contrast: {
          batch: toBatch(views.map((view) => ({ history: view, target: 0 }))),
          dropout: viewMasks,
          weight,
          temperature,
        },
      });
      return { loss, gradients, masks: [masks.steps, masks.hidden, viewMasks.steps, viewMasks.hidden] as const };
    });
    const [steps, hidden, viewSteps, viewHidden] = result.masks;
    const dropout = {
      examples: await referenceMasks({ steps, hidden }),
      views: await referenceMasks({ steps: viewSteps, hidden: viewHidden }),
    };
    const objective = (w: ReferenceWeights) =>
      referenceLoss(w, features, contrasted, dropout.examples) +
      weight * referenceContrastive(w, features, contrasted, views, temperature, dropout);
    // The term weighs in: a wrong gradient of it could not hide under the cross-entropy's.
    const term = referenceContrastive(weights, features, contrasted, views, temperature, dropout);
    expect(term).toBeGreaterThan(0.05);
    expect((await result.loss.data())[0]).toBeCloseTo(objective(weights), 5);
    expect(await mismatches(result.gradients, weights, objective)).toEqual([]);
    tf.dispose([result.loss, ...Object.values(result.gradients), ...result.masks]);
  });
});
