import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { initialWeights } from '../../../src/core/model/model-spec.js';
import { encodeTensors } from '../../../src/core/sync/tensor-codec.js';
import { modelSetup } from '../../../src/eval/model-setup.js';
import { openSavedTeacher } from '../../../src/eval/saved-teacher.js';
import { sequenceHistory } from '../../../src/eval/sequence-features.js';
import { RecommenderModel } from '../../../src/ml/recommender-model.js';
import { selectBackend } from '../../../src/ml/select-backend.js';

const setup = modelSetup(9, 4, 1);
let dir: string;

beforeAll(async () => {
  await selectBackend({ preference: 'cpu', initTimeoutMs: 10_000 });
  dir = await mkdtemp(join(tmpdir(), 'omnipersona-teachers-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Weights of `seed` with a bias that favours `item`, written as --save-models writes a model. */
async function savedModel(name: string, seed: number, item: number): Promise<string> {
  const weights = initialWeights(setup.config, seed);
  (weights.item_bias as { data: Float32Array }).data[item] = 3;
  const path = join(dir, `${name}.safetensors`);
  await writeFile(path, encodeTensors(weights));
  return path;
}

async function rows(tensor: tf.Tensor2D): Promise<number[][]> {
  const values = (await tensor.array()) as number[][];
  tensor.dispose();
  return values;
}

it('several saved models teach the mean of their predictions; one teaches its own', async () => {
  const files = [await savedModel('a', 2, 1), await savedModel('b', 3, 5)];
  const histories = [[1, 2], [4], []].map((items) => sequenceHistory(Int32Array.from(items)));
  const alone = await Promise.all(
    files.map(async (file) => {
      const teacher = await openSavedTeacher([file], setup);
      const predicted = await rows(teacher.predictions(histories));
      teacher.dispose();
      return predicted;
    }),
  );
  const [first, second] = alone as [number[][], number[][]];
  // The two differ, so a mean that is either one of them would fail below.
  expect(first[0]?.[1]).toBeGreaterThan((second[0]?.[1] ?? 0) + 0.1);
  const ensemble = await openSavedTeacher(files, setup);
  expect(ensemble.config.items).toBe(9);
  const mean = await rows(ensemble.predictions(histories));
  ensemble.dispose();
  for (const [row, values] of mean.entries()) {
    expect(values.reduce((total, value) => total + value, 0)).toBeCloseTo(1, 5);
    for (const [item, value] of values.entries()) {
      expect(value).toBeCloseTo(((first[row]?.[item] ?? 0) + (second[row]?.[item] ?? 0)) / 2, 6);
    }
  }
});

it('refuses a missing file and keeps no tensors of the models opened before it', async () => {
  const file = await savedModel('c', 4, 2);
  const before = tf.memory().numTensors;
  await expect(openSavedTeacher([file, join(dir, 'none.safetensors')], setup)).rejects.toMatchObject({
    code: 'INVALID_OPTIONS',
    message: expect.stringMatching(/--teacher: .*none\.safetensors: ENOENT/u),
  });
  expect(tf.memory().numTensors).toBe(before);
  const model = RecommenderModel.create(setup.config, initialWeights(setup.config, 4), setup.features);
  expect(tf.memory().numTensors).toBeGreaterThan(before);
  model.dispose();
});
