import { beforeAll, expect, test } from 'vitest';
import { trainingExamples } from '../../../src/core/features/history.js';
import type { TrainingExample } from '../../../src/core/model/model-runtime.js';
import { HISTORY_LENGTH, initialWeights, type ModelConfig } from '../../../src/core/model/model-spec.js';
import type { WeightSet } from '../../../src/core/model/weights.js';
import { seededRandom } from '../../../src/core/random.js';
import { RecommenderModel } from '../../../src/ml/recommender-model.js';
import { selectBackend } from '../../../src/ml/select-backend.js';
import {
  BATCH_SIZE,
  batchesOf,
  INFORMED_MARGIN,
  LENGTH_WINDOW,
  type TrainModelOptions,
  trainModel,
} from '../../../src/ml/train-model.js';

const config: ModelConfig = { items: 12, categories: 3, brands: 3, dim: 4 };
/** Side features for `items` items. */
const featuresOf = (items: number) => ({
  categories: Int32Array.from({ length: items }, (_, item) => 1 + (item % 2)),
  brands: Int32Array.from({ length: items }, (_, item) => 1 + (item % 2)),
  priceBands: Int32Array.from({ length: items }, (_, item) => 1 + (item % 4)),
});
// Fewer examples than a batch: one step per epoch.
const examples = trainingExamples(Array.from({ length: 6 }, (_, k) => ({ item: k, kind: 'view', time: k })));

async function trained(options: TrainModelOptions, shape = config, start?: WeightSet): Promise<WeightSet> {
  const model = RecommenderModel.create(shape, start ?? initialWeights(shape, 5), featuresOf(shape.items));
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

test('a larger Adam ε keeps a fine-tune off the items the full softmax touches only faintly', async () => {
  // A catalog of 1,000 items: the examples' targets (items 1 to 5) take nearly all the gradient.
  const large = { ...config, items: 1000 };
  const start = initialWeights(large, 5).item_embedding?.data as Float32Array;
  // How far each item's row moved in one step.
  const moved = async (adamEpsilon?: number) => {
    const options = { epochs: 1, learningRate: 0.01, dropout: 0, ...(adamEpsilon ? { adamEpsilon } : {}) };
    const data = (await trained(options, large)).item_embedding?.data as Float32Array;
    return Array.from({ length: large.items }, (_, item) => {
      let sum = 0;
      for (let d = 0; d < large.dim; d++)
        sum += ((data[item * large.dim + d] ?? 0) - (start[item * large.dim + d] ?? 0)) ** 2;
      return Math.sqrt(sum);
    });
  };
  const untouched = (rows: number[]) => Math.max(...rows.slice(6));
  const plain = await moved();
  const damped = await moved(1e-3);
  // A fresh Adam moves every row with a gradient by about the learning rate per weight.
  expect(untouched(plain)).toBeGreaterThan(0.01);
  expect(untouched(damped)).toBeLessThan(untouched(plain) / 10);
  expect(damped[5]).toBeGreaterThan(untouched(damped) * 10);
});

test('averageDecay ends with the moving average of the weights after each step', async () => {
  const options = { learningRate: 0.05, dropout: 0 };
  const first = initialWeights(config, 5);
  const afterOne = await trained({ ...options, epochs: 1 });
  const afterTwo = await trained({ ...options, epochs: 2 });
  const decay = 0.75;
  const averaged = await trained({ ...options, epochs: 2, averageDecay: decay });
  // a₀ = w₀, a₁ = β·a₀ + (1 − β)·w₁, a₂ = β·a₁ + (1 − β)·w₂
  for (const [name, tensor] of Object.entries(first)) {
    const one = afterOne[name]?.data as Float32Array;
    const two = afterTwo[name]?.data as Float32Array;
    const expected = Array.from(
      tensor.data,
      (value, i) => decay * decay * value + decay * (1 - decay) * (one[i] as number) + (1 - decay) * (two[i] as number),
    );
    Array.from(averaged[name]?.data ?? [], (value, i) => expect(value).toBeCloseTo(expected[i] as number, 6));
  }
  expect(averaged.item_embedding?.data).not.toEqual(afterTwo.item_embedding?.data);
  expect((await trained({ ...options, epochs: 2, averageDecay: 0 })).item_embedding?.data).toEqual(
    afterTwo.item_embedding?.data,
  );
  await expect(trained({ ...options, averageDecay: 1 })).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });
});

test('keepShare leaves the weights that share of the way from the start to where the steps took them', async () => {
  // A model that has learnt the examples already, as a global model has learnt what shoppers do.
  const start = await trained({ epochs: 40, learningRate: 0.05 });
  const informed = RecommenderModel.create(config, start, featuresOf(config.items));
  try {
    const histories = examples.map((example) => example.history);
    expect(await informed.predictionEntropy(histories)).toBeLessThan(Math.log(config.items) - INFORMED_MARGIN);
  } finally {
    informed.dispose();
  }
  const options = { epochs: 3, learningRate: 0.05 };
  const whole = await trained(options, config, start);
  const half = await trained({ ...options, keepShare: 0.5 }, config, start);
  const none = await trained({ ...options, keepShare: 0 }, config, start);
  for (const [name, tensor] of Object.entries(start)) {
    const moved = whole[name]?.data as Float32Array;
    const expected = Array.from(tensor.data, (value, i) => value + 0.5 * ((moved[i] as number) - value));
    Array.from(half[name]?.data ?? [], (value, i) => expect(value).toBeCloseTo(expected[i] as number, 6));
    expect(none[name]?.data).toEqual(tensor.data);
  }
  expect(whole.item_embedding?.data).not.toEqual(start.item_embedding?.data);
  await expect(trained({ ...options, keepShare: 1.5 })).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });
});

test('keepShare does not hold back a run from a model that knows nothing of the examples yet', async () => {
  // Fresh weights predict every item alike: the whole change stays.
  const fresh = RecommenderModel.create(config, initialWeights(config, 5), featuresOf(config.items));
  try {
    const entropy = await fresh.predictionEntropy(examples.map((example) => example.history));
    expect(entropy).toBeGreaterThan(Math.log(config.items) - INFORMED_MARGIN);
    expect(entropy).toBeLessThanOrEqual(Math.log(config.items) + 1e-6);
  } finally {
    fresh.dispose();
  }
  const options = { epochs: 3, learningRate: 0.05 };
  expect((await trained({ ...options, keepShare: 0.25 })).item_embedding?.data).toEqual(
    (await trained(options)).item_embedding?.data,
  );
});

test('stepDropout leaves out earlier steps of each history at that rate, and never its last step', async () => {
  // Six shoppers of 12 steps: 66 examples, histories of up to 11 steps.
  const long = Array.from({ length: 6 }, (_, shopper) =>
    trainingExamples(Array.from({ length: 12 }, (_, k) => ({ item: (k + shopper) % 12, kind: 'view', time: k }))),
  ).flat();
  const seen = async (stepDropout: number) => {
    const model = RecommenderModel.create(config, initialWeights(config, 5), featuresOf(config.items));
    const batches: Array<{ original: Int32Array; trained: Int32Array }> = [];
    const trainStep = model.trainStep.bind(model);
    model.trainStep = (optimizer, batch, options) => {
      for (const example of batch) {
        const original = long.find((candidate) => candidate === example)?.history.items;
        batches.push({ original: original ?? Int32Array.from([-1]), trained: example.history.items });
      }
      return trainStep(optimizer, batch, options);
    };
    try {
      await trainModel(model, long, { epochs: 2, stepDropout, timeBudgetMs: Number.POSITIVE_INFINITY }, 3);
    } finally {
      model.dispose();
    }
    return batches;
  };

  const untouched = await seen(0);
  expect(untouched).toHaveLength(2 * long.length);
  expect(untouched.every(({ original, trained }) => original === trained)).toBe(true);

  const dropped = await seen(0.5);
  let droppable = 0;
  let kept = 0;
  for (const { trained } of dropped) {
    // An example with dropped steps is a copy; find its source by the steps it kept.
    const source = long.find(
      (example) =>
        example.history.items.at(-1) === trained.at(-1) &&
        isSubsequence(trained, example.history.items) &&
        example.history.items.length >= trained.length,
    );
    expect(source).toBeDefined();
    droppable += (source?.history.items.length ?? 1) - 1;
    kept += trained.length - 1;
  }
  expect(kept / droppable).toBeGreaterThan(0.35);
  expect(kept / droppable).toBeLessThan(0.65);
  await expect(trained({ epochs: 1, stepDropout: 1 })).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });
});

test("contrastivePositive 'sameNextItem' pairs each history with another whose next item is the same", async () => {
  // Six shoppers of 12 steps through the same 12 items, from different starts: every target is
  // several examples' (from different shoppers) but item 3's, which one example alone leads to.
  const shoppers = Array.from({ length: 6 }, (_, shopper) =>
    trainingExamples(Array.from({ length: 12 }, (_, k) => ({ item: (k + shopper) % 12, kind: 'view', time: k }))),
  ).flat();
  const first = shoppers[0] as (typeof shoppers)[number];
  const lonely = { history: { ...first.history, items: first.history.items.slice() }, target: 3 };
  const all = [...shoppers.filter((example) => example.target !== 3), lonely];
  const model = RecommenderModel.create(config, initialWeights(config, 5), featuresOf(config.items));
  const pairs: Array<{ example: (typeof all)[number]; view: Int32Array }> = [];
  const trainStep = model.trainStep.bind(model);
  model.trainStep = (optimizer, batch, options) => {
    batch.forEach((example, i) => {
      pairs.push({ example, view: options.contrastive?.views[i]?.items ?? Int32Array.from([-1]) });
    });
    return trainStep(optimizer, batch, options);
  };
  const options = { epochs: 2, contrastiveWeight: 0.1, contrastivePositive: 'sameNextItem' as const };
  try {
    await trainModel(model, all, { ...options, timeBudgetMs: Number.POSITIVE_INFINITY }, 3);
  } finally {
    model.dispose();
  }
  expect(pairs).toHaveLength(2 * all.length);
  for (const { example, view } of pairs) {
    if (example === lonely) {
      expect(view).toBe(example.history.items);
      continue;
    }
    const source = all.filter((candidate) => candidate.history.items === view);
    expect(source).toHaveLength(1);
    expect(source[0]?.target).toBe(example.target);
    expect(source[0]).not.toBe(example);
  }
});

function isSubsequence(part: Int32Array, whole: Int32Array): boolean {
  let at = 0;
  for (const value of whole) if (at < part.length && part[at] === value) at++;
  return at === part.length;
}

test('contrastiveWeight trains on a second view of each history, and bad contrastive settings are refused', async () => {
  const plain = await trained({ epochs: 2, learningRate: 0.05, stepDropout: 0.5 });
  const contrastive = await trained({ epochs: 2, learningRate: 0.05, stepDropout: 0.5, contrastiveWeight: 0.5 });
  expect(contrastive.query_weights?.data).not.toEqual(plain.query_weights?.data);
  for (const options of [{ contrastiveWeight: -0.1 }, { contrastiveWeight: 0.1, contrastiveTemperature: 0 }]) {
    await expect(trained({ epochs: 1, ...options })).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });
  }
});

test("a teacher's predictions pull the model toward them, and a teacher that does not fit is refused", async () => {
  // A teacher that puts its mass on item 11, which no example leads to.
  const teacherWeights = initialWeights(config, 9);
  (teacherWeights.item_bias as { data: Float32Array }).data[11] = 8;
  const teacher = RecommenderModel.create(config, teacherWeights, featuresOf(config.items));
  const other = RecommenderModel.create(
    { ...config, items: 13 },
    initialWeights({ ...config, items: 13 }, 9),
    featuresOf(13),
  );
  try {
    const options = { epochs: 3, learningRate: 0.05, dropout: 0 };
    const plain = await trained(options);
    const taught = await trained({ ...options, teacher: { model: teacher, weight: 0.8 } });
    const bias = (weights: WeightSet) => (weights.item_bias as { data: Float32Array }).data[11] as number;
    expect(bias(taught)).toBeGreaterThan(bias(plain) + 0.05);
    await expect(trained({ epochs: 1, teacher: { model: teacher, weight: 1.5 } })).rejects.toMatchObject({
      code: 'INVALID_PAYLOAD',
    });
    await expect(trained({ epochs: 1, teacher: { model: other, weight: 0.5 } })).rejects.toThrow(
      /The teacher ranks 13 items, the model 12/u,
    );
  } finally {
    teacher.dispose();
    other.dispose();
  }
});

test('each epoch batches every example once, with histories of like lengths together', () => {
  // Three windows' worth of examples in random order, most histories short and a few long, as in
  // shop logs: 1 step plus an exponential draw of mean 8.
  const draw = seededRandom(41);
  const count = BATCH_SIZE * LENGTH_WINDOW * 3 - 50;
  const many: TrainingExample[] = Array.from({ length: count }, () => {
    const steps = 1 + Math.floor(-8 * Math.log(1 - draw()));
    return { history: { items: new Int32Array(steps), signals: new Int32Array(steps) }, target: 0 };
  });
  const batches = batchesOf(many, seededRandom(1));
  expect(batches).toHaveLength(Math.ceil(count / BATCH_SIZE));
  expect(batches.flat().sort((a, b) => a - b)).toEqual(Array.from(many.keys()));
  expect(batches.filter((batch) => batch.length !== BATCH_SIZE)).toHaveLength(1);
  // A batch is padded to fit its longest history: under half the steps of batches drawn at random.
  const longest = (batch: number[]) =>
    Math.max(...batch.map((index) => Math.min((many[index] as TrainingExample).history.items.length, HISTORY_LENGTH)));
  const steps = (drawn: number[][]) => drawn.reduce((total, batch) => total + longest(batch), 0);
  // The examples are in random order already: batches of consecutive ones are random batches.
  const order = Array.from(many.keys());
  const random = Array.from({ length: batches.length }, (_, k) => order.slice(k * BATCH_SIZE, (k + 1) * BATCH_SIZE));
  expect(steps(batches)).toBeLessThan(0.5 * steps(random));
  // Reproducible from the seed, and shuffled anew by another.
  expect(batchesOf(many, seededRandom(1))).toEqual(batches);
  expect(batchesOf(many, seededRandom(2))).not.toEqual(batches);
});
