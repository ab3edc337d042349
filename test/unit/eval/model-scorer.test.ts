import { expect, it } from 'vitest';
import { initialWeights } from '../../../src/core/model/model-spec.js';
import { modelScorer } from '../../../src/eval/model-scorer.js';
import { modelSetup } from '../../../src/eval/model-setup.js';
import { sequenceHistory } from '../../../src/eval/sequence-features.js';
import { createModelRuntime } from '../../../src/ml/create-model-runtime.js';
import { RecommenderModel } from '../../../src/ml/recommender-model.js';

it('scores a batch of histories as the device scores each one alone', async () => {
  const setup = modelSetup(25, 6, 3);
  const weights = initialWeights(setup.config, 3);
  // Trained weights would do as well; a non-zero bias makes the check cover every tensor.
  (weights.item_bias as { data: Float32Array }).data.forEach((_, i, data) => {
    data[i] = Math.sin(i);
  });
  const runtime = await createModelRuntime({ backend: 'wasm' });
  await runtime.load(setup.config, weights, setup.features);
  const model = RecommenderModel.create(setup.config, weights, setup.features);
  try {
    const histories = [[1, 2, 3], [4], [24, 0, 24, 7], []].map((rows) => Int32Array.from(rows));
    const batch = await modelScorer(model)(histories);
    expect(batch).toHaveLength(histories.length * 25);
    for (const [row, history] of histories.entries()) {
      const alone = await runtime.score(sequenceHistory(history));
      const mine = batch.subarray(row * 25, (row + 1) * 25);
      expect(Math.max(...Array.from(alone, (value, i) => Math.abs(value - (mine[i] ?? Number.NaN))))).toBeLessThan(
        1e-5,
      );
    }
  } finally {
    model.dispose();
    await runtime.dispose();
  }
});
