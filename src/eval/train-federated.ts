import * as tf from '@tensorflow/tfjs-core';
import type { TrainingExample } from '../core/model/model-runtime.js';
import { initialWeights, sharedPart } from '../core/model/model-spec.js';
import { subtractWeights, type WeightSet, weightsNorm } from '../core/model/weights.js';
import { seededRandom } from '../core/random.js';
import { clipUpdate } from '../core/sync/factored-norm.js';
import { expandWeights, factorWeights } from '../core/sync/low-rank.js';
import { decodeTensors, encodeTensors } from '../core/sync/tensor-codec.js';
import { GLOBAL_KEYS, RecommenderModel, TENSOR_NAMES, type TensorKey } from '../ml/recommender-model.js';
import { BATCH_SIZE, stepSeed, trainModel } from '../ml/train-model.js';
import { ServerAdam } from '../server/server-optimizer.js';
import type { EvalSettings } from './eval-settings.js';
import type { ModelSetup } from './model-setup.js';
import { sampleIndices } from './sample-indices.js';
import { sequenceExamples } from './sequence-features.js';

type LocalTraining = EvalSettings['federated']['local'];

/** One client's update to the shared tensors, on the backend, before clipping. */
interface ClientUpdate {
  tensors: Record<TensorKey, tf.Tensor>;
  /** Its L2 norm over every shared tensor. */
  norm: number;
  /** The global model's loss (under dropout) on the client's examples before its step. */
  loss: number;
}

/**
 * Federated training simulated in one process: every user is a client holding only their own
 * training sequence. Each round samples clients; each takes the device's federated steps from the
 * round's global weights (`FEDERATED_LOCAL`: one pass of plain gradient steps) and sends the shared
 * part of its update (new weights minus global, personal tensors left out), clipped to the server's
 * norm bound. The server takes the round's mean weighted by examples (weighted FedAvg) and feeds it
 * to its Adam (`ServerAdam`), the rate decaying linearly over the rounds as the centralized
 * training's does. The caller disposes the returned model.
 *
 * A client whose examples fit in one batch takes exactly one step, so its update is −rate × its
 * gradient at the global weights. Those are computed from one model holding the round's global
 * weights, its item vectors built once a round instead of once a client, and summed on the backend
 * (about 2× faster than a device's path per client). A client with more examples trains a copy of
 * the global weights as a device does. test/unit/eval/train-federated.test.ts checks a round of
 * both kinds against devices' updates averaged by the server's code.
 */
export async function trainFederated(
  train: readonly Int32Array[],
  setup: ModelSetup,
  settings: EvalSettings['federated'],
  log: (line: string) => void = () => {},
): Promise<RecommenderModel> {
  const clients = train.map((sequence) => sequenceExamples(sequence)).filter((examples) => examples.length > 0);
  const random = seededRandom(setup.seed);
  const local = { ...settings.local, timeBudgetMs: Number.POSITIVE_INFINITY };
  let global: WeightSet = initialWeights(setup.config, setup.seed);
  const server = new ServerAdam(settings.server);
  const startRate = settings.server.learningRate;
  const decayPerRound = (startRate * (1 - settings.finalRateShare)) / Math.max(1, settings.rounds - 1);
  log(
    `federated: ${clients.length} clients, ${settings.rounds} rounds of ${Math.min(settings.clientsPerRound, clients.length)}, ` +
      `local ${local.epochs} epochs of ${local.optimizer} at ${local.learningRate}, updates clipped to norm ${settings.maxUpdateNorm}, ` +
      `server Adam at ${startRate} decaying to ${startRate * settings.finalRateShare}`,
  );
  const model = RecommenderModel.create(setup.config, global, setup.features);
  // Trains a copy of the global weights for a client with more examples than one step takes.
  let copy: RecommenderModel | undefined;
  try {
    for (let round = 0; round < settings.rounds; round++) {
      const started = performance.now();
      model.setWeights(global);
      const sum = new UpdateSum();
      let clipped = 0;
      let norms = 0;
      // The global model's loss (under dropout) on each client's data before it trains: data it has not seen.
      let globalLoss = 0;
      try {
        for (const [position, client] of sampleIndices(clients.length, settings.clientsPerRound, random).entries()) {
          const examples = clients[client] as TrainingExample[];
          const seed = setup.seed + round * settings.clientsPerRound + position;
          let update: ClientUpdate;
          if (oneStep(examples, local)) {
            update = await oneStepUpdate(model, examples, local, seed);
          } else {
            copy ??= RecommenderModel.create(setup.config, global, setup.features);
            update = await trainedUpdate(copy, global, examples, local, seed);
          }
          globalLoss += update.loss;
          norms += update.norm;
          if (settings.updateRank > 0) {
            const sent = await asSent(update.tensors, settings.updateRank, settings.maxUpdateNorm, seed);
            if (sent.norm > settings.maxUpdateNorm) clipped++;
            sum.add(sent.tensors, examples.length, 1);
            continue;
          }
          const scale = update.norm > settings.maxUpdateNorm ? settings.maxUpdateNorm / update.norm : 1;
          if (scale < 1) clipped++;
          sum.add(update.tensors, examples.length, scale);
        }
        const mean = await sum.mean(global);
        if (mean) global = server.step(global, mean, startRate - decayPerRound * round);
      } finally {
        sum.dispose();
      }
      if ((round + 1) % settings.logEvery === 0 || round + 1 === settings.rounds) {
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        const meanNorm = (norms / Math.max(1, sum.count)).toFixed(2);
        log(
          `federated: round ${round + 1}/${settings.rounds}, ${sum.count} clients, ` +
            `global model's loss on them ${(globalLoss / Math.max(1, sum.count)).toFixed(3)}, ` +
            `update norm ${meanNorm} on average, ${clipped} clipped, ${seconds} s`,
        );
      }
    }
    model.setWeights(global);
    return model;
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    copy?.dispose();
  }
}

/**
 * What the server reads of an update that travelled as a device sends it: factored at `rank`,
 * clipped to `maxNorm` through its factors, encoded in int8 with stochastic rounding, decoded and
 * multiplied out. Disposes `tensors`.
 */
async function asSent(
  tensors: ClientUpdate['tensors'],
  rank: number,
  maxNorm: number,
  seed: number,
): Promise<{ tensors: ClientUpdate['tensors']; norm: number }> {
  const dense: WeightSet = {};
  try {
    for (const key of GLOBAL_KEYS) {
      dense[TENSOR_NAMES[key]] = { shape: [...tensors[key].shape], data: (await tensors[key].data()) as Float32Array };
    }
  } finally {
    tf.dispose(Object.values(tensors));
  }
  const random = seededRandom(seed);
  const { delta, norm } = clipUpdate(factorWeights(dense, { rank, random }), maxNorm);
  const received = expandWeights(decodeTensors(encodeTensors(delta, {}, 'I8', { random }), { maxTensors: 64 }).tensors);
  const sent = Object.fromEntries(
    GLOBAL_KEYS.map((key) => {
      const { data, shape } = received[TENSOR_NAMES[key]] as WeightSet[string];
      return [key, tf.tensor(data, shape, 'float32')];
    }),
  ) as ClientUpdate['tensors'];
  return { tensors: sent, norm };
}

/** Whether the device's local training on `examples` is a single plain gradient step. */
function oneStep(examples: readonly TrainingExample[], local: LocalTraining): boolean {
  return local.optimizer === 'sgd' && local.epochs === 1 && examples.length <= BATCH_SIZE;
}

/** −rate × the gradient at the weights `model` holds (the global ones): the device's single step, as trainModel takes it. */
async function oneStepUpdate(
  model: RecommenderModel,
  examples: readonly TrainingExample[],
  local: LocalTraining,
  seed: number,
): Promise<ClientUpdate> {
  const { loss, gradients } = model.gradients(examples, { dropout: local.dropout, seed: stepSeed(seed, 0) });
  try {
    const tensors = tf.tidy(
      () =>
        Object.fromEntries(
          GLOBAL_KEYS.map((key) => [key, tf.mul(gradients[key], -local.learningRate)]),
        ) as ClientUpdate['tensors'],
    );
    const measures = tf.tidy(() =>
      tf.stack([loss, tf.sqrt(tf.addN(GLOBAL_KEYS.map((key) => tf.sum(tf.square(tensors[key])))))]),
    );
    try {
      const [lossValue, norm] = await measures.data();
      return { tensors, norm: norm as number, loss: lossValue as number };
    } finally {
      measures.dispose();
    }
  } finally {
    tf.dispose([loss, ...Object.values(gradients)]);
  }
}

/** The device's path: `copy` set to the global weights, trained, and its shared tensors' change. */
async function trainedUpdate(
  copy: RecommenderModel,
  global: WeightSet,
  examples: readonly TrainingExample[],
  local: LocalTraining & { timeBudgetMs: number },
  seed: number,
): Promise<ClientUpdate> {
  copy.setWeights(global);
  const result = await trainModel(copy, examples, local, seed);
  const delta = sharedPart(subtractWeights(await copy.weights(), global), copy.config);
  const tensors = Object.fromEntries(
    GLOBAL_KEYS.map((key) => {
      const { data, shape } = delta[TENSOR_NAMES[key]] as WeightSet[string];
      return [key, tf.tensor(data, shape, 'float32')];
    }),
  ) as ClientUpdate['tensors'];
  return { tensors, norm: weightsNorm(delta), loss: result.initialLoss };
}

/**
 * A round's clipped updates, weighted by their examples, summed on the backend: the server's
 * weighted FedAvg (`DeltaAverage`) over dense updates, without reading each one back.
 */
class UpdateSum {
  readonly #sums = new Map<TensorKey, tf.Tensor>();
  #examples = 0;
  #count = 0;

  get count(): number {
    return this.#count;
  }

  /** Adds `scale × tensors` with the weight `examples`, and disposes `tensors`. */
  add(tensors: ClientUpdate['tensors'], examples: number, scale: number): void {
    try {
      for (const key of GLOBAL_KEYS) {
        const previous = this.#sums.get(key);
        const weighted = tf.tidy(() => {
          const part = tf.mul(tensors[key], examples * scale);
          return previous ? tf.add(previous, part) : part;
        });
        previous?.dispose();
        this.#sums.set(key, weighted);
      }
      this.#examples += examples;
      this.#count++;
    } finally {
      tf.dispose(Object.values(tensors));
    }
  }

  /** The weighted mean as weights shaped like `like`, zero in the personal tensors; undefined before any example. */
  async mean(like: WeightSet): Promise<WeightSet | undefined> {
    if (!(this.#examples > 0)) return undefined;
    const mean: WeightSet = {};
    for (const [key, name] of Object.entries(TENSOR_NAMES) as Array<[TensorKey, string]>) {
      const { shape, data } = like[name] as WeightSet[string];
      const sum = this.#sums.get(key);
      if (!sum) {
        mean[name] = { shape: [...shape], data: new Float32Array(data.length) };
        continue;
      }
      const divided = tf.div(sum, this.#examples);
      try {
        mean[name] = { shape: [...shape], data: Float32Array.from(await divided.data()) };
      } finally {
        divided.dispose();
      }
    }
    return mean;
  }

  dispose(): void {
    tf.dispose([...this.#sums.values()]);
    this.#sums.clear();
  }
}
