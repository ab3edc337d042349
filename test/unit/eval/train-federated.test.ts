import { beforeAll, expect, test } from 'vitest';
import { initialWeights, sharedPart } from '../../../src/core/model/model-spec.js';
import { subtractWeights, type WeightSet, weightsNorm } from '../../../src/core/model/weights.js';
import { seededRandom } from '../../../src/core/random.js';
import { clipUpdate } from '../../../src/core/sync/factored-norm.js';
import { factorWeights } from '../../../src/core/sync/low-rank.js';
import { decodeTensors, encodeTensors } from '../../../src/core/sync/tensor-codec.js';
import type { EvalSettings } from '../../../src/eval/eval-settings.js';
import { modelSetup } from '../../../src/eval/model-setup.js';
import { sampleIndices } from '../../../src/eval/sample-indices.js';
import { sequenceExamples } from '../../../src/eval/sequence-features.js';
import { trainFederated } from '../../../src/eval/train-federated.js';
import { RecommenderModel } from '../../../src/ml/recommender-model.js';
import { selectBackend } from '../../../src/ml/select-backend.js';
import { BATCH_SIZE, trainModel } from '../../../src/ml/train-model.js';
import { federatedAverage } from '../../../src/server/federated-average.js';

const setup = modelSetup(30, 8, 3);
const local = { optimizer: 'sgd', epochs: 1, learningRate: 0.5, dropout: 0 } as const;
/** Three short histories and one longer than a batch, which takes several steps on a device. */
const train = [
  [1, 2, 3, 4, 5, 6],
  [10, 11, 12, 13, 14, 15, 16, 17, 18],
  [20, 21, 22, 23, 24],
  Array.from({ length: BATCH_SIZE + 12 }, (_, step) => (step * 7) % 30),
].map((items) => Int32Array.from(items));

beforeAll(async () => {
  await selectBackend({ preference: 'wasm', initTimeoutMs: 10_000 });
});

/** A device's update from `global`: its local training on its examples, minus the global weights, shared tensors only. */
async function deviceUpdate(global: WeightSet, sequence: Int32Array, seed: number): Promise<WeightSet> {
  const model = RecommenderModel.create(setup.config, global, setup.features);
  try {
    await trainModel(model, sequenceExamples(sequence), { ...local, timeBudgetMs: Number.POSITIVE_INFINITY }, seed);
    return sharedPart(subtractWeights(await model.weights(), global), setup.config);
  } finally {
    model.dispose();
  }
}

test('a simulated round gives the global model what devices send and the server averages', async () => {
  const global = initialWeights(setup.config, setup.seed);
  // The simulation seeds the client drawn in position p of the first round with setup.seed + p,
  // which orders a long history's batches.
  const drawn = sampleIndices(train.length, train.length, seededRandom(setup.seed));
  const updates = await Promise.all(
    train.map((sequence, client) => deviceUpdate(global, sequence, setup.seed + drawn.indexOf(client))),
  );
  const norms = updates.map(weightsNorm).sort((a, b) => a - b);
  // A bound between the norms: some updates are clipped, some are not.
  const maxUpdateNorm = ((norms[1] as number) + (norms[2] as number)) / 2;
  const expected = federatedAverage(
    global,
    updates.map((update, client) => ({
      delta: clipUpdate(update, maxUpdateNorm).delta,
      examples: sequenceExamples(train[client] as Int32Array).length,
    })),
  );

  const settings: EvalSettings['federated'] = {
    rounds: 1,
    clientsPerRound: train.length,
    local,
    maxUpdateNorm,
    updateRank: 0,
    // With ε far above every update, the server's Adam adds the round's mean as it is: what is compared here is the mean.
    server: { learningRate: 1e6, beta1: 0.9, beta2: 0.999, epsilon: 1e6 },
    finalRateShare: 1,
    logEvery: 1,
  };
  const lines: string[] = [];
  const model = await trainFederated(train, setup, settings, (line) => lines.push(line));
  try {
    const weights = await model.weights();
    expect(lines.at(-1)).toContain(`${train.length} clients`);
    expect(lines.at(-1)).toContain('2 clipped');
    for (const [name, tensor] of Object.entries(expected)) {
      const actual = weights[name]?.data as Float32Array;
      const moved = tensor.data.some((value, i) => value !== global[name]?.data[i]);
      expect(moved, name).toBe(name !== 'personal_vector');
      const worst = tensor.data.reduce((most, value, i) => Math.max(most, Math.abs(value - (actual[i] as number))), 0);
      expect(worst, name).toBeLessThan(1e-5);
    }
  } finally {
    model.dispose();
  }
});

test('with an update rank, a simulated round averages what devices send as int8 factors', async () => {
  const global = initialWeights(setup.config, setup.seed);
  const drawn = sampleIndices(train.length, train.length, seededRandom(setup.seed));
  const maxUpdateNorm = 0.5;
  const rank = 2;
  const sent = await Promise.all(
    train.map(async (sequence, client) => {
      const seed = setup.seed + drawn.indexOf(client);
      const update = await deviceUpdate(global, sequence, seed);
      // The simulation draws the test matrix and the rounding from one stream seeded by the client's seed.
      const random = seededRandom(seed);
      const { delta } = clipUpdate(factorWeights(update, { rank, random }), maxUpdateNorm);
      return decodeTensors(encodeTensors(delta, {}, 'I8', { random }), { maxTensors: 64 }).tensors;
    }),
  );
  expect(Object.keys(sent[0] ?? {})).toContain('item_embedding.u');
  // The server's average takes factored updates as they come.
  const expected = federatedAverage(
    global,
    sent.map((delta, client) => ({ delta, examples: sequenceExamples(train[client] as Int32Array).length })),
  );
  const settings: EvalSettings['federated'] = {
    rounds: 1,
    clientsPerRound: train.length,
    local,
    maxUpdateNorm,
    updateRank: rank,
    server: { learningRate: 1e6, beta1: 0.9, beta2: 0.999, epsilon: 1e6 },
    finalRateShare: 1,
    logEvery: 1,
  };
  const model = await trainFederated(train, setup, settings);
  try {
    const weights = await model.weights();
    for (const [name, tensor] of Object.entries(expected)) {
      const actual = weights[name]?.data as Float32Array;
      const worst = tensor.data.reduce((most, value, i) => Math.max(most, Math.abs(value - (actual[i] as number))), 0);
      expect(worst, name).toBeLessThan(1e-5);
    }
    expect(weights.item_embedding?.data.some((value, i) => value !== global.item_embedding?.data[i])).toBe(true);
  } finally {
    model.dispose();
  }
});
