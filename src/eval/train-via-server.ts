import { createFetchTransport } from '../browser/fetch-transport.js';
import type { TrainingExample } from '../core/model/model-runtime.js';
import { sharedPart } from '../core/model/model-spec.js';
import { subtractWeights, type WeightSet } from '../core/model/weights.js';
import { seededRandom } from '../core/random.js';
import { clipUpdate } from '../core/sync/factored-norm.js';
import { factorWeights, UPDATE_RANK } from '../core/sync/low-rank.js';
import type { ModelManifest } from '../core/sync/protocol.js';
import { SyncClient } from '../core/sync/sync-client.js';
import { RecommenderModel } from '../ml/recommender-model.js';
import { trainModel } from '../ml/train-model.js';
import { createSyncServer } from '../server/create-sync-server.js';
import type { EvalSettings } from './eval-settings.js';
import type { ModelSetup } from './model-setup.js';
import type { MetricValues } from './ranking-metrics.js';
import { sampleIndices } from './sample-indices.js';
import { sequenceExamples } from './sequence-features.js';

/** One checkpoint of a run through the server: the global model's quality after `round` rounds. */
export interface ServerRoundMetrics {
  round: number;
  version: number;
  metrics: MetricValues;
}

/** What {@link trainViaServer} needs beyond the training data. */
export interface ViaServerOptions {
  /** Ranks a global model's weights on the checkpoint cases. */
  checkpoint: (weights: WeightSet, setup: ModelSetup) => Promise<MetricValues>;
  /** Checkpoints this many times over the run (and before the first round). */
  checkpoints: number;
  log: (line: string) => void;
}

/**
 * Federated training through a live sync server, over HTTP: the server (`createSyncServer`, an
 * in-memory embedded store) holds the global model and aggregates each round of
 * `clientsPerRound` updates with its Adam; every client is a user holding only their own sequence,
 * which downloads the current model as a device does, takes the device's federated step, and sends
 * what a device sends (`SyncClient.pushUpdate`: rank-4 factors in int8, clipped to the manifest's
 * bound). Between rounds the global model is checkpointed.
 *
 * The offline `federated` mode simulates the same in one process, faster; this one runs the product's
 * own path end to end. The server's rate stays constant (it has no schedule).
 */
export async function trainViaServer(
  train: readonly Int32Array[],
  setup: ModelSetup,
  settings: EvalSettings['federated'],
  { checkpoint, checkpoints, log }: ViaServerOptions,
): Promise<{ model: RecommenderModel; progress: ServerRoundMetrics[] }> {
  const clients = train.map((sequence) => sequenceExamples(sequence)).filter((examples) => examples.length > 0);
  const perRound = Math.min(settings.clientsPerRound, clients.length);
  const server = await createSyncServer({
    dataDir: 'memory://',
    roundSize: perRound,
    modelDim: setup.config.dim,
    maxUpdateNorm: settings.maxUpdateNorm,
    serverLearningRate: settings.server.learningRate,
    logger: { info() {}, error: (...args: unknown[]) => log(`server: ${args.join(' ')}`) },
  });
  let model: RecommenderModel | undefined;
  try {
    // Items by their index, with no side features: the rows of the server's model follow them.
    await server.importCatalog(
      Array.from({ length: setup.config.items }, (_, index) => ({ id: String(index), category: [] })),
    );
    const { url } = await server.listen({ port: 0 });
    const client = new SyncClient(createFetchTransport(url));
    const random = seededRandom(setup.seed);
    const local = { ...settings.local, timeBudgetMs: Number.POSITIVE_INFINITY };
    const every = Math.max(1, Math.floor(settings.rounds / Math.max(1, checkpoints)));
    const progress: ServerRoundMetrics[] = [];
    log(
      `federated-server: ${clients.length} clients, ${settings.rounds} rounds of ${perRound} through ${url}, ` +
        `updates as rank-${UPDATE_RANK} factors in int8`,
    );
    let current = await download(client);
    model = RecommenderModel.create(setup.config, current.weights, setup.features);
    const record = async (round: number) => {
      const metrics = await checkpoint(current.weights, setup);
      progress.push({ round, version: current.manifest.version, metrics });
      log(
        `federated-server: after round ${round}, model version ${current.manifest.version}: ` +
          `HR@10 ${metrics['HR@10'].toFixed(4)}, NDCG@10 ${metrics['NDCG@10'].toFixed(4)}`,
      );
    };
    await record(0);
    for (let round = 0; round < settings.rounds; round++) {
      const started = performance.now();
      const clipNorm = current.manifest.privacy?.clipNorm ?? settings.maxUpdateNorm;
      for (const [position, index] of sampleIndices(clients.length, perRound, random).entries()) {
        const examples = clients[index] as TrainingExample[];
        const seed = setup.seed + round * perRound + position;
        model.setWeights(current.weights);
        await trainModel(model, examples, local, seed);
        const delta = sharedPart(subtractWeights(await model.weights(), current.weights), setup.config);
        const factored = factorWeights(delta, { rank: UPDATE_RANK, random: seededRandom(seed) });
        const { delta: clipped } = clipUpdate(factored, clipNorm);
        // One at a time: the server shares this process, and a request sent during the next client's
        // training would wait for it.
        await client.pushUpdate(clipped, current.manifest.version, examples.length);
      }
      const next = await download(client);
      if (next.manifest.version !== current.manifest.version + 1) {
        throw new Error(
          `Round ${round + 1} left the server at version ${next.manifest.version}, not ${current.manifest.version + 1}`,
        );
      }
      current = next;
      if ((round + 1) % settings.logEvery === 0) {
        log(
          `federated-server: round ${round + 1}/${settings.rounds}, ${((performance.now() - started) / 1000).toFixed(1)} s`,
        );
      }
      if ((round + 1) % every === 0 || round + 1 === settings.rounds) await record(round + 1);
    }
    log(`federated-server: model download ${(current.bytes / 1024).toFixed(0)} KiB (F32)`);
    model.setWeights(current.weights);
    return { model, progress };
  } catch (error) {
    model?.dispose();
    throw error;
  } finally {
    await server.close();
  }
}

async function download(client: SyncClient): Promise<{ manifest: ModelManifest; weights: WeightSet; bytes: number }> {
  const fresh = await client.manifest();
  if (!fresh) throw new Error('The server answered 304 without a validator');
  const weights = await client.weights(fresh.manifest.weights.F32);
  const bytes = Object.values(weights).reduce((sum, tensor) => sum + tensor.data.length * 4, 0);
  return { manifest: fresh.manifest, weights, bytes };
}
