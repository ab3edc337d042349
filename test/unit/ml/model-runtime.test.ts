import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { OmniPersonaError } from '../../../src/core/errors.js';
import { trainingExamples } from '../../../src/core/features/history.js';
import type {
  HistoryInput,
  ItemFeatures,
  ModelRuntime,
  TrainingExample,
} from '../../../src/core/model/model-runtime.js';
import {
  initialWeights,
  type ModelConfig,
  modelSpec,
  PRICE_BANDS,
  SIGNALS,
  signalRow,
} from '../../../src/core/model/model-spec.js';
import { seededRandom } from '../../../src/core/random.js';
import { createModelRuntime } from '../../../src/ml/index.js';
import { crossEntropy } from './reference-recommender.js';

// 40 items in 4 categories (rows 1–4; row 0 is "unknown"): items 10c..10c+9 are in category c+1.
// Brands and price bands cut across categories, so that neither gives a category away.
const config: ModelConfig = { items: 40, categories: 5, brands: 4, dim: 16 };
const categories = Int32Array.from({ length: 40 }, (_, item) => 1 + Math.floor(item / 10));
const features: ItemFeatures = {
  categories,
  brands: Int32Array.from({ length: 40 }, (_, item) => 1 + (item % 3)),
  priceBands: Int32Array.from({ length: 40 }, (_, item) => 1 + (item % 5)),
};

/** A history of product views a moment ago. */
function viewed(items: number[]): HistoryInput {
  return { items: Int32Array.from(items), signals: Int32Array.from(items, () => signalRow('view', 0)) };
}

/** Shoppers who browse within one category, 8 items each, as the core builds next-item examples. */
function shoppers(count: number, seed: number): TrainingExample[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const category = Math.floor(random() * 4);
    const steps = Array.from({ length: 8 }, (_, k) => ({
      item: category * 10 + Math.floor(random() * 10),
      kind: 'view' as const,
      time: k * 60_000,
    }));
    return trainingExamples(steps);
  }).flat();
}

/** Fresh weights whose category rows say nothing yet, so that any category structure has to be learnt. */
function blankWeights() {
  const weights = initialWeights(config, 7);
  weights.category_embedding?.data.fill(0);
  return weights;
}

async function meanCrossEntropy(runtime: ModelRuntime, examples: TrainingExample[]): Promise<number> {
  let total = 0;
  for (const { history, target } of examples) total += crossEntropy(await runtime.score(history), target);
  return total / examples.length;
}

/** The `count` best-scored items outside the history. */
async function topItems(runtime: ModelRuntime, history: HistoryInput, count: number): Promise<number[]> {
  const scores = await runtime.score(history);
  return Array.from(scores.keys())
    .filter((item) => !history.items.includes(item))
    .sort((a, b) => (scores[b] ?? 0) - (scores[a] ?? 0))
    .slice(0, count);
}

describe.each(['cpu', 'wasm'] as const)('model runtime on %s', (backend) => {
  let runtime: ModelRuntime;
  beforeAll(async () => {
    runtime = await createModelRuntime({ backend });
  });
  afterAll(() => runtime.dispose());

  test('runs on the forced backend and needs a model before scoring', async () => {
    expect(runtime.backend).toBe(backend);
    const error = await runtime.score(viewed([])).catch((e) => e);
    expect(error).toBeInstanceOf(OmniPersonaError);
    expect(error.code).toBe('MODEL_UNAVAILABLE');
  });

  test('weights round trip exactly through load and weights', async () => {
    const weights = initialWeights(config, 3);
    await runtime.load(config, weights, features);
    const read = await runtime.weights();
    expect(Object.keys(read).sort()).toEqual(Object.keys(weights).sort());
    for (const [name, tensor] of Object.entries(weights)) {
      expect(read[name]?.shape).toEqual(tensor.shape);
      expect(read[name]?.data).toEqual(tensor.data);
    }
  });

  test('load rejects weights and features of the wrong shape, and keeps the model it had', async () => {
    const weights = initialWeights(config, 3);
    await runtime.load(config, weights, features);
    const wrong = initialWeights({ ...config, dim: 8 });
    for (const attempt of [
      runtime.load(config, wrong, features),
      runtime.load(config, weights, { ...features, categories: categories.slice(1) }),
      runtime.load(config, weights, { ...features, categories: categories.map(() => 5) }),
      runtime.load(config, weights, { ...features, brands: features.brands.slice(1) }),
      runtime.load(config, weights, { ...features, brands: features.brands.map(() => 4) }),
      runtime.load(config, weights, { ...features, priceBands: features.priceBands.map(() => PRICE_BANDS) }),
    ]) {
      const error = await attempt.catch((e) => e);
      expect(error).toBeInstanceOf(OmniPersonaError);
      expect(error.code).toBe('INVALID_PAYLOAD');
    }
    expect((await runtime.weights()).item_embedding?.data).toEqual(weights.item_embedding?.data);
  });

  test('training lowers the loss and ranks the history’s category first', async () => {
    await runtime.load(config, blankWeights(), features);
    const heldOut = shoppers(40, 99);
    const history = viewed([0, 3, 7]);
    const inCategory = (items: number[]) => items.every((item) => categories[item] === 1);
    const lossBefore = await meanCrossEntropy(runtime, heldOut);
    expect(inCategory(await topItems(runtime, history, 7))).toBe(false);

    // A few epochs at a brisk rate: a step of the attention model takes ~200 ms on TF.js' cpu backend.
    // The budget is far beyond the 21 steps, so that a loaded machine still takes them all.
    const report = await runtime.train(shoppers(120, 1), { epochs: 3, learningRate: 0.01, timeBudgetMs: 60_000 });

    expect(report).toMatchObject({ backend, examples: 840 });
    expect(report.steps).toBe(21);
    expect(report.initialLoss).toBeCloseTo(Math.log(40), 1);
    expect(report.loss).toBeLessThan(report.initialLoss - 0.8);
    expect(await meanCrossEntropy(runtime, heldOut)).toBeLessThan(lossBefore - 0.8);
    expect(inCategory(await topItems(runtime, history, 7))).toBe(true);
  });

  test('training from the same weights on the same examples with the same seed gives the same weights', async () => {
    const examples = shoppers(8, 5);
    const options = { epochs: 2, learningRate: 0.01, timeBudgetMs: 10_000, dropout: 0.5 };
    const trained = async (seed: number) => {
      await runtime.load(config, blankWeights(), features);
      await runtime.train(examples, { ...options, seed });
      return (await runtime.weights()).item_embedding?.data;
    };
    const first = await trained(7);
    // Another call in between moves the runtime's own seed count on: the given seed decides alone.
    await runtime.train(examples, { epochs: 1, timeBudgetMs: 10_000 });
    expect(await trained(7)).toEqual(first);
    expect(await trained(8)).not.toEqual(first);
  });

  test('training stops at the time budget', async () => {
    await runtime.load(config, blankWeights(), features);
    const report = await runtime.train(shoppers(120, 1), { epochs: 10_000, timeBudgetMs: 300 });
    expect(report.steps).toBeGreaterThan(0);
    expect(report.steps).toBeLessThan(10_000 * 7);
    expect(report.milliseconds).toBeLessThan(1500);
  });

  test('rejects examples outside the model before changing any weight', async () => {
    const weights = blankWeights();
    await runtime.load(config, weights, features);
    const good = shoppers(5, 2);
    for (const history of [
      viewed([40]),
      { items: Int32Array.from([1, 2]), signals: Int32Array.from([0]) },
      { items: Int32Array.from([1]), signals: Int32Array.from([SIGNALS]) },
    ]) {
      const error = await runtime.train([...good, { history, target: 1 }]).catch((e) => e);
      expect(error).toBeInstanceOf(OmniPersonaError);
      expect(error.code).toBe('INVALID_PAYLOAD');
    }
    expect((await runtime.weights()).item_embedding?.data).toEqual(weights.item_embedding?.data);
  });

  test('train and score leave no tensor behind, and dispose frees the model', async () => {
    const examples = shoppers(30, 5);
    const baseline = tf.memory().numTensors;
    const fresh = await createModelRuntime({ backend });
    await fresh.load(config, blankWeights(), features);
    const loaded = tf.memory().numTensors;
    // One variable per trained tensor, and the three side-feature rows.
    expect(loaded).toBe(baseline + modelSpec(config).length + 3);
    for (let round = 0; round < 3; round++) {
      await fresh.train(examples, { epochs: 2 });
      expect(tf.memory().numTensors).toBe(loaded);
      const history = examples[round]?.history as HistoryInput;
      const before = await fresh.score(history);
      // Scoring keeps the item side (V and Vᵀ) for the next call, until training changes the weights.
      expect(tf.memory().numTensors).toBe(loaded + 2);
      expect(await fresh.score(history)).toEqual(before);
      await fresh.weights();
      expect(tf.memory().numTensors).toBe(loaded + 2);
      await fresh.train(examples, { epochs: 1 });
      expect(tf.memory().numTensors).toBe(loaded);
      expect(await fresh.score(history)).not.toEqual(before);
    }
    await fresh.load(config, blankWeights(), features);
    expect(tf.memory().numTensors).toBe(loaded);
    await fresh.dispose();
    expect(tf.memory().numTensors).toBe(baseline);
  });
});
