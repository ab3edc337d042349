import { initialWeights, sharedPart } from '../core/model/model-spec.js';
import { subtractWeights, type WeightSet } from '../core/model/weights.js';
import { seededRandom } from '../core/random.js';
import { RecommenderModel } from '../ml/recommender-model.js';
import { trainModel } from '../ml/train-model.js';
import { clipWeights } from '../server/clip-weights.js';
import { DeltaAverage } from '../server/federated-average.js';
import { ServerAdam } from '../server/server-optimizer.js';
import type { EvalSettings } from './eval-settings.js';
import type { ModelSetup } from './model-setup.js';
import { sampleIndices } from './sample-indices.js';
import { sequenceExamples } from './sequence-features.js';

/**
 * Federated training simulated in one process: every user is a client holding only their own
 * training sequence. Each round samples clients; each takes the device's federated steps from the
 * round's global weights (`FEDERATED_LOCAL`: plain gradient steps) and sends the shared part of its
 * update (new weights minus global, personal tensors left out), clipped to the server's norm bound.
 * The server takes the round's mean weighted by examples (weighted FedAvg, `DeltaAverage`) and
 * feeds it to its Adam (`ServerAdam`), the rate decaying linearly over the rounds as the
 * centralized training's does. One model is reused for every client, its weights reset to the
 * global ones before each. The caller disposes the model.
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
  try {
    for (let round = 0; round < settings.rounds; round++) {
      const started = performance.now();
      const average = new DeltaAverage(global);
      let clipped = 0;
      let norms = 0;
      // The global model's loss (under dropout) on each client's data before it trains: data it has not seen.
      let globalLoss = 0;
      for (const [position, client] of sampleIndices(clients.length, settings.clientsPerRound, random).entries()) {
        const examples = clients[client] as (typeof clients)[number];
        model.setWeights(global);
        const result = await trainModel(
          model,
          examples,
          local,
          setup.seed + round * settings.clientsPerRound + position,
        );
        globalLoss += result.initialLoss;
        const delta = sharedPart(subtractWeights(await model.weights(), global), setup.config);
        const update = clipWeights(delta, settings.maxUpdateNorm);
        if (update.norm > settings.maxUpdateNorm) clipped++;
        norms += update.norm;
        average.add({ delta: update.weights, examples: examples.length });
      }
      const mean = average.mean();
      if (mean) global = server.step(global, mean, startRate - decayPerRound * round);
      if ((round + 1) % settings.logEvery === 0 || round + 1 === settings.rounds) {
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        const meanNorm = (norms / Math.max(1, average.count)).toFixed(2);
        log(
          `federated: round ${round + 1}/${settings.rounds}, ${average.count} clients, ` +
            `global model's loss on them ${(globalLoss / Math.max(1, average.count)).toFixed(3)}, ` +
            `update norm ${meanNorm} on average, ${clipped} clipped, ${seconds} s`,
        );
      }
    }
    model.setWeights(global);
    return model;
  } catch (error) {
    model.dispose();
    throw error;
  }
}
