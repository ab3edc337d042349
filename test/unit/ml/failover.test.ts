import * as tf from '@tensorflow/tfjs-core';
import { expect, test } from 'vitest';
import type { HistoryInput, ItemFeatures } from '../../../src/core/model/model-runtime.js';
import { initialWeights, type ModelConfig, signalRow } from '../../../src/core/model/model-spec.js';
import { createModelRuntime } from '../../../src/ml/index.js';

// Its own file: it removes the wasm backend from TF.js for the rest of the process.
const config: ModelConfig = { items: 12, categories: 3, brands: 4, dim: 4 };
const features: ItemFeatures = {
  categories: Int32Array.from({ length: 12 }, (_, item) => 1 + (item % 2)),
  brands: Int32Array.from({ length: 12 }, (_, item) => 1 + (item % 3)),
  priceBands: Int32Array.from({ length: 12 }, (_, item) => 1 + (item % 5)),
};
const history: HistoryInput = {
  items: Int32Array.from([1, 3]),
  signals: Int32Array.from([signalRow('view', 86_400_000), signalRow('cart', 60_000)]),
};
const examples = Array.from({ length: 30 }, (_, i) => ({
  history: { items: Int32Array.from([i % 12]), signals: Int32Array.from([signalRow('view', 0)]) },
  target: (i + 2) % 12,
}));

function maxDifference(a: Float32Array, b: Float32Array): number {
  expect(a).toHaveLength(b.length);
  return Math.max(...Array.from(a, (value, i) => Math.abs(value - (b[i] ?? Number.NaN))));
}

test('when its backend dies the runtime moves to the next one, with the trained weights', async () => {
  const runtime = await createModelRuntime({ backend: 'wasm' });
  await runtime.load(config, initialWeights(config), features);
  await runtime.train(examples, { epochs: 3 });
  const trained = await runtime.weights();
  const scores = await runtime.score(history);

  tf.removeBackend('wasm'); // as a lost GPU device would: the backend and every tensor on it are gone

  const rescored = await runtime.score(history);
  expect(runtime.backend).toBe('cpu');
  expect(maxDifference(rescored, scores)).toBeLessThan(1e-5);
  expect(await runtime.weights()).toEqual(trained);
  expect((await runtime.train(examples, { epochs: 1 })).backend).toBe('cpu');
});
