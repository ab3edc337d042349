import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { trainingExamples } from '../../../src/core/features/history.js';
import { initialWeights, PROFILE_INPUTS, signalRow } from '../../../src/core/model/model-spec.js';
import { createModelRuntime } from '../../../src/ml/index.js';
import { MODEL_KERNELS } from '../../../src/ml/model-kernels.js';

// The browser bundles register MODEL_KERNELS only: a kernel missing from the list would throw
// "not registered" in a shopper's browser, so every path of the model runs here under the profiler.
describe.each(['cpu', 'wasm'] as const)('the kernels the model runs on %s', (backend) => {
  test('are exactly MODEL_KERNELS', async () => {
    const config = { items: 40, categories: 5, brands: 4, dim: 8 };
    const features = {
      categories: Int32Array.from({ length: 40 }, (_, item) => 1 + (item % 4)),
      brands: Int32Array.from({ length: 40 }, (_, item) => 1 + (item % 3)),
      priceBands: Int32Array.from({ length: 40 }, (_, item) => 1 + (item % 5)),
    };
    const steps = Array.from({ length: 8 }, (_, k) => ({ item: k, kind: 'view' as const, time: k * 60_000 }));
    const examples = trainingExamples(steps, new Float32Array(PROFILE_INPUTS).fill(0.5));

    const profile = await tf.profile(async () => {
      const runtime = await createModelRuntime({ backend });
      await runtime.load(config, initialWeights(config, 1), features);
      await runtime.train(examples, { epochs: 2, stayNear: 0.1 });
      await runtime.train(examples, { epochs: 2, optimizer: 'sgd', dropout: 0 });
      await runtime.train(examples, { epochs: 2, stepDropout: 0.2, contrastiveWeight: 0.1 });
      await runtime.score({ items: Int32Array.from([1, 2]), signals: Int32Array.from([signalRow('view', 0), 0]) });
      await runtime.weights();
      await runtime.dispose();
      return [];
    });

    // Each backend reads table rows with the gather kernel that is fast on it (recommender-maths.ts).
    const other = backend === 'cpu' ? 'GatherNd' : 'GatherV2';
    expect([...new Set(profile.kernelNames)].sort()).toEqual(MODEL_KERNELS.filter((name) => name !== other).sort());
  });
});
