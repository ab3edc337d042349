import { beforeAll, expect, test } from 'vitest';
import { trainingExamples } from '../../../src/core/features/history.js';
import { initialWeights, type ModelConfig } from '../../../src/core/model/model-spec.js';
import type { WeightSet } from '../../../src/core/model/weights.js';
import { RecommenderModel } from '../../../src/ml/recommender-model.js';
import { selectBackend } from '../../../src/ml/select-backend.js';
import { type TrainModelOptions, trainModel } from '../../../src/ml/train-model.js';

const config: ModelConfig = { items: 12, categories: 3, brands: 3, dim: 4 };
const features = {
  categories: Int32Array.from({ length: 12 }, (_, item) => 1 + (item % 2)),
  brands: Int32Array.from({ length: 12 }, (_, item) => 1 + (item % 2)),
  priceBands: Int32Array.from({ length: 12 }, (_, item) => 1 + (item % 4)),
};
// Fewer examples than a batch: one step per epoch.
const examples = trainingExamples(Array.from({ length: 6 }, (_, k) => ({ item: k, kind: 'view', time: k })));

async function trained(options: TrainModelOptions): Promise<WeightSet> {
  const model = RecommenderModel.create(config, initialWeights(config, 5), features);
  try {
    await trainModel(model, examples, { timeBudgetMs: Number.POSITIVE_INFINITY, ...options }, 3);
    return await model.weights();
  } finally {
    model.dispose();
  }
}

beforeAll(async () => {
  await selectBackend({ preference: 'wasm', initTimeoutMs: 10_000 });
});

test.each(['adam', 'sgd'] as const)(
  'with %s, the learning rate decays linearly to the final rate',
  async (optimizer) => {
    // Two steps from 0.05 to 0: the second step moves nothing, so the weights are those of the first alone.
    const oneStep = await trained({ optimizer, epochs: 1, learningRate: 0.05 });
    const decayed = await trained({ optimizer, epochs: 2, learningRate: 0.05, finalLearningRate: 0 });
    const constant = await trained({ optimizer, epochs: 2, learningRate: 0.05 });
    expect(decayed.item_embedding?.data).toEqual(oneStep.item_embedding?.data);
    expect(constant.item_embedding?.data).not.toEqual(oneStep.item_embedding?.data);
  },
);

test('reports each pass with its mean loss', async () => {
  const passes: Array<[number, number]> = [];
  await trained({ epochs: 3, learningRate: 0.05, onEpoch: (epoch, loss) => passes.push([epoch, loss]) });
  expect(passes.map(([epoch]) => epoch)).toEqual([1, 2, 3]);
  for (const [, loss] of passes) expect(loss).toBeGreaterThan(0);
  expect(passes[2]?.[1]).toBeLessThan(passes[0]?.[1] ?? 0);
});
