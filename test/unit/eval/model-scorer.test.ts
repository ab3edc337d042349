import { expect, it } from 'vitest';
import { CoVisits } from '../../../src/core/co-visits.js';
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

it("adds the co-visits to each history's own row", async () => {
  const setup = modelSetup(25, 6, 3);
  const model = RecommenderModel.create(setup.config, initialWeights(setup.config, 3), setup.features);
  try {
    const table = CoVisits.count(
      [
        [1, 2, 3, 4],
        [4, 24, 7],
      ],
      25,
    );
    const options = { recent: 3, weight: 1.5 };
    const histories = [[1, 2], [4], [24, 0, 24, 7], []].map((rows) => Int32Array.from(rows));
    const alone = await modelScorer(model)(histories);
    const added = await modelScorer(model, { table, options })(histories);
    const expected = alone.slice();
    histories.forEach((history, row) => {
      table.addTo(expected.subarray(row * 25, (row + 1) * 25), history, options);
    });
    expect(Array.from(added)).toEqual(Array.from(expected));
    // The table moved something: 2 → 3 and 4 → 24 are pairs it counted.
    expect(added[2] as number).toBeGreaterThan(alone[2] as number);
    expect(added[25 + 24] as number).toBeGreaterThan(alone[25 + 24] as number);
  } finally {
    model.dispose();
  }
});
