import { initialWeights } from '../core/model/model-spec.js';
import { subtractWeights, type WeightSet } from '../core/model/weights.js';
import { seededRandom } from '../core/random.js';
import { RecommenderModel } from '../ml/recommender-model.js';
import { trainModel } from '../ml/train-model.js';
import { clipWeights } from '../server/clip-weights.js';
import { federatedAverage, type WeightedDelta } from '../server/federated-average.js';
import type { EvalSettings } from './eval-settings.js';
import type { ModelSetup } from './model-setup.js';
import { sampleIndices } from './sample-indices.js';
import { sequenceExamples } from './sequence-features.js';

/**
 * Federated training simulated in one process: every user is a client holding only their own
 * training sequence. Each round samples clients; each trains locally from the round's global
 * weights as the device does (the device's epochs and learning rate), its update (new weights minus
 * global) is clipped to the server's norm bound, and the server's weighted FedAvg (weight = the
 * client's examples) makes the next global model — the server's own clip and average functions.
 * Local training has no time budget, unlike the device's 2 s, so that runs are reproducible; a
 * user's few examples take far less than that anyway. The caller disposes the model.
 */
export async function trainFederated(
  train: readonly Int32Array[],
  setup: ModelSetup,
  settings: EvalSettings['federated'],
  log: (line: string) => void = () => {},
): Promise<RecommenderModel> {
  const clients = train.map((sequence) => sequenceExamples(sequence)).filter((examples) => examples.length > 0);
  const random = seededRandom(setup.seed);
  const local = {
    epochs: settings.localEpochs,
    learningRate: settings.localLearningRate,
    timeBudgetMs: Number.POSITIVE_INFINITY,
  };
  let global: WeightSet = initialWeights(setup.config, setup.seed);
  log(
    `federated: ${clients.length} clients, ${settings.rounds} rounds of ${Math.min(settings.clientsPerRound, clients.length)}, ` +
      `local ${local.epochs} epochs at learning rate ${local.learningRate}, updates clipped to norm ${settings.maxUpdateNorm}`,
  );
  for (let round = 0; round < settings.rounds; round++) {
    const started = performance.now();
    const updates: WeightedDelta[] = [];
    let clipped = 0;
    let norms = 0;
    for (const [position, client] of sampleIndices(clients.length, settings.clientsPerRound, random).entries()) {
      const examples = clients[client] as (typeof clients)[number];
      const model = RecommenderModel.create(setup.config, global, setup.features);
      let trained: WeightSet;
      try {
        await trainModel(model, examples, local, setup.seed + round * settings.clientsPerRound + position);
        trained = await model.weights();
      } finally {
        model.dispose();
      }
      const update = clipWeights(subtractWeights(trained, global), settings.maxUpdateNorm);
      if (update.norm > settings.maxUpdateNorm) clipped++;
      norms += update.norm;
      updates.push({ delta: update.weights, examples: examples.length });
    }
    global = federatedAverage(global, updates);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const meanNorm = (norms / Math.max(1, updates.length)).toFixed(1);
    log(
      `federated: round ${round + 1}/${settings.rounds}, ${updates.length} clients, ` +
        `update norm ${meanNorm} on average, ${clipped} clipped, ${seconds} s`,
    );
  }
  return RecommenderModel.create(setup.config, global, setup.features);
}
