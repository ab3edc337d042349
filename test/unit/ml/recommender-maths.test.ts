import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import type { TrainingExample } from '../../../src/core/model/model-runtime.js';
import { initialWeights, type ModelConfig } from '../../../src/core/model/model-spec.js';
import type { WeightSet } from '../../../src/core/model/weights.js';
import { gaussian, seededRandom } from '../../../src/core/random.js';
import { lossAndGradients, type RecommenderParams, scores } from '../../../src/ml/recommender-maths.js';
import { selectBackend } from '../../../src/ml/select-backend.js';
import { historyRow, referenceLoss, referenceScores } from './reference-recommender.js';

const config: ModelConfig = { items: 6, categories: 3, dim: 3 };
// Items 0, 2 and 5 share category 1: their gradients must add up in the category row.
const categories = Int32Array.from([1, 2, 1, 0, 2, 1]);
const examples: TrainingExample[] = [
  { history: { items: Int32Array.from([0, 1, 0]), weights: Float32Array.from([1, 3, 0.5]) }, target: 2 },
  { history: { items: Int32Array.from([4]), weights: Float32Array.from([2]) }, target: 4 },
  { history: { items: Int32Array.from([]), weights: Float32Array.from([]) }, target: 5 },
  { history: { items: Int32Array.from([3, 5, 2]), weights: Float32Array.from([0.2, 1, 1]) }, target: 0 },
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
  const tensor = (name: string) => {
    const { data, shape } = weights[name] as { data: Float32Array; shape: number[] };
    return tf.tensor(data, shape);
  };
  return {
    itemEmbedding: tensor('item_embedding') as tf.Tensor2D,
    categoryEmbedding: tensor('category_embedding') as tf.Tensor2D,
    itemBias: tensor('item_bias') as tf.Tensor1D,
    userProjection: tensor('user_projection') as tf.Tensor2D,
    categories: tf.tensor1d(categories, 'int32'),
  };
}

function historyMatrix(batch: TrainingExample[]): tf.Tensor2D {
  return tf.tensor2d(batch.map(({ history }) => Array.from(historyRow(history, config.items))));
}

/** Central differences of the float64 reference loss, one weight at a time. */
function numericGradient(weights: WeightSet, name: string): Float64Array {
  const data = (weights[name] as { data: Float32Array }).data;
  return Float64Array.from(data, (original, i) => {
    data[i] = original + 1e-3;
    const plus = [data[i] as number, referenceLoss(weights, categories, examples)] as const;
    data[i] = original - 1e-3;
    const minus = [data[i] as number, referenceLoss(weights, categories, examples)] as const;
    data[i] = original;
    return (plus[1] - minus[1]) / (plus[0] - minus[0]);
  });
}

describe.each(['cpu', 'wasm'] as const)('recommender maths on %s', (backend) => {
  beforeAll(async () => {
    expect((await selectBackend({ preference: backend, initTimeoutMs: 10_000 })).backend).toBe(backend);
  });

  test('scores match the float64 reference of the model spec', async () => {
    const weights = randomWeights();
    const logits = tf.tidy(() => scores(toParams(weights), historyMatrix(examples)));
    const actual = (await logits.array()) as number[][];
    logits.dispose();
    examples.forEach(({ history }, row) => {
      const expected = referenceScores(weights, categories, history);
      expect(actual[row]).toHaveLength(expected.length);
      for (const [item, value] of expected.entries()) expect(actual[row]?.[item]).toBeCloseTo(value, 5);
    });
  });

  test('loss and every gradient match the reference and its central differences', async () => {
    const weights = randomWeights();
    const result = tf.tidy(() => {
      const { loss, gradients } = lossAndGradients(
        toParams(weights),
        historyMatrix(examples),
        tf.tensor1d(
          examples.map((example) => example.target),
          'int32',
        ),
      );
      return { loss, ...gradients };
    });
    expect(await result.loss.data()).toHaveLength(1);
    expect((await result.loss.data())[0]).toBeCloseTo(referenceLoss(weights, categories, examples), 5);
    const pairs = [
      ['item_embedding', result.itemEmbedding],
      ['category_embedding', result.categoryEmbedding],
      ['item_bias', result.itemBias],
      ['user_projection', result.userProjection],
    ] as const;
    for (const [name, gradient] of pairs) {
      const expected = numericGradient(weights, name);
      const actual = await gradient.data();
      expect(actual).toHaveLength(expected.length);
      for (const [i, value] of expected.entries()) {
        expect(Math.abs((actual[i] ?? Number.NaN) - value)).toBeLessThan(1e-4 + 1e-3 * Math.abs(value));
      }
    }
    tf.dispose(Object.values(result));
  });
});
