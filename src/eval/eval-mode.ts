import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoVisits } from '../core/co-visits.js';
import { seededRandom } from '../core/random.js';
import { decodeTensors, encodeTensors, type WireDtype } from '../core/sync/tensor-codec.js';
import { RecommenderModel } from '../ml/recommender-model.js';
import type { EvalSettings } from './eval-settings.js';
import { type BatchScorer, evaluateRanking } from './evaluate-ranking.js';
import type { LeaveOneOutSplit, RankingCase } from './leave-one-out.js';
import { type CoVisitScoring, modelScorer } from './model-scorer.js';
import type { ModelSetup } from './model-setup.js';
import { PERSONALIZATION_MIN_EVENTS, type PersonalizationResult, personalizationGain } from './personalization.js';
import { popularityScores } from './popularity-scores.js';
import type { MetricValues } from './ranking-metrics.js';
import { sampleIndices } from './sample-indices.js';
import { openSavedModel } from './saved-model.js';
import { trainCentralized } from './train-centralized.js';
import { trainFederated } from './train-federated.js';
import { type ServerRoundMetrics, trainViaServer } from './train-via-server.js';

/**
 * The ways a run can produce rankings, in report order. `co-visits` ranks by the co-visits table
 * alone (popularity breaking its ties), a baseline for what the models add to it. `federated-server`
 * trains through a live sync server over HTTP (`train-via-server.ts`): slower, so only when asked for.
 */
export const EVAL_MODES = ['popularity', 'co-visits', 'centralized', 'federated', 'federated-server'] as const;

/** One of {@link EVAL_MODES}. */
export type EvalMode = (typeof EVAL_MODES)[number];

/** What a run without `--modes` evaluates. */
export const DEFAULT_EVAL_MODES: readonly EvalMode[] = ['popularity', 'co-visits', 'centralized', 'federated'];

/** Cases a `federated-server` checkpoint ranks (seeded), and how many checkpoints a run takes. */
const CHECKPOINT_CASES = 2000;
const CHECKPOINTS = 10;

/** What every mode needs: the split, the cases it ranks, the model's shapes, and where to log. */
export interface EvalContext {
  split: LeaveOneOutSplit;
  cases: readonly RankingCase[];
  items: number;
  setup: ModelSetup;
  settings: EvalSettings;
  /** Indices into `cases` of the shoppers the personalisation rows measure (`personalizationShoppers`); empty for none. */
  shoppers: readonly number[];
  log: (line: string) => void;
  /** Where trained models are saved to or loaded from; absent to train and forget. */
  modelFiles?: ModelFiles;
  /** The co-visits table counted from `split.train`, added to every model's scores; absent for the model alone. */
  coVisits?: CoVisitScoring;
}

/** `--save-models` and `--load-models`. */
export interface ModelFiles {
  save?: string;
  load?: string;
  /**
   * What identifies the run that trains a model (data, subset, seed, width); a saved model carries
   * it with its mode's training settings, and loading one from another run is refused.
   */
  run: Record<string, string>;
}

/** The encodings the device can download the global model in, besides float32 (see `weightsDtype`). */
export const QUANTIZED_DTYPES = ['F16', 'I8'] as const satisfies readonly WireDtype[];

/** A mode's metrics, and for a model mode the same model's after a round trip through each quantized encoding. */
export interface ModeMetrics {
  /** As devices rank: the model's scores with the co-visits added, when the run has them. */
  metrics: MetricValues;
  /** For a model mode with co-visits, the model's scores alone. */
  modelAlone?: MetricValues;
  quantized: Array<{ dtype: (typeof QUANTIZED_DTYPES)[number]; metrics: MetricValues }>;
  /** For a model mode, the personalisation gain on shoppers with enough events, when the settings ask for it. */
  personalization?: PersonalizationResult;
  /** For `federated-server`, the global model's quality on a sample of the cases round after round. */
  progress?: ServerRoundMetrics[];
}

/** Trains what `mode` needs on the training sequences, then ranks every case with it. */
export async function runEvalMode(mode: EvalMode, context: EvalContext): Promise<ModeMetrics> {
  const { split, cases, items, setup, settings, log } = context;
  if (mode === 'popularity') {
    // Counts everything seen before the targets ranked (for the test target, the validation items
    // too): no target leaks in, and the floor is as high as the data allows.
    const observed = cases.map((entry) => entry.history);
    return { metrics: await evaluateRanking(cases, items, repeated(popularityScores(observed, items))), quantized: [] };
  }
  if (mode === 'co-visits') return { metrics: await coVisitsAlone(context), quantized: [] };
  const scorer = (model: RecommenderModel) => modelScorer(model, context.coVisits);
  let progress: ServerRoundMetrics[] | undefined;
  const train = async () => {
    if (mode === 'centralized') return trainCentralized(split.train, setup, settings.centralized, log);
    if (mode === 'federated') return trainFederated(split.train, setup, settings.federated, log);
    const sample = sampleIndices(cases.length, Math.min(cases.length, CHECKPOINT_CASES), seededRandom(setup.seed));
    const checkpointCases = sample.map((index) => cases[index] as RankingCase);
    const run = await trainViaServer(split.train, setup, settings.federated, {
      checkpoints: CHECKPOINTS,
      log,
      checkpoint: async (weights) => {
        const global = RecommenderModel.create(setup.config, weights, setup.features);
        try {
          return await evaluateRanking(checkpointCases, items, scorer(global), settings.scoreBatch);
        } finally {
          global.dispose();
        }
      },
    });
    progress = run.progress;
    return run.model;
  };
  const model: RecommenderModel = (await loadModel(mode, context)) ?? (await train());
  try {
    if (context.modelFiles?.save !== undefined) {
      const path = join(context.modelFiles.save, `${mode}.safetensors`);
      await mkdir(context.modelFiles.save, { recursive: true });
      await writeFile(path, encodeTensors(await model.weights(), modelIdentity(mode, context)));
      log(`${mode}: saved to ${path}`);
    }
    const metrics = await evaluateRanking(cases, items, scorer(model), settings.scoreBatch);
    const modelAlone = context.coVisits
      ? await evaluateRanking(cases, items, modelScorer(model), settings.scoreBatch)
      : undefined;
    // The accuracy each download encoding costs: the same weights, encoded and decoded as the wire does.
    const weights = await model.weights();
    const quantized: ModeMetrics['quantized'] = [];
    for (const dtype of QUANTIZED_DTYPES) {
      const decoded = decodeTensors(encodeTensors(weights, {}, dtype)).tensors;
      const copy = RecommenderModel.create(setup.config, decoded, setup.features);
      try {
        quantized.push({ dtype, metrics: await evaluateRanking(cases, items, scorer(copy), settings.scoreBatch) });
      } finally {
        copy.dispose();
      }
    }
    const chosen = context.shoppers.map((index) => cases[index] as RankingCase);
    const started = performance.now();
    const personalization = await personalizationGain(model, chosen, items, setup.seed, context.coVisits);
    const ranked = { metrics, quantized, ...(modelAlone ? { modelAlone } : {}), ...(progress ? { progress } : {}) };
    if (!personalization) return ranked;
    log(
      `${mode}: fine-tuned for ${personalization.users} shoppers with ${PERSONALIZATION_MIN_EVENTS}+ events: ` +
        `HR@10 ${personalization.global['HR@10'].toFixed(4)} → ${personalization.personal['HR@10'].toFixed(4)}; ` +
        `held-out item ranked higher for ${personalization.rankedHigher}, lower for ${personalization.rankedLower} ` +
        `in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    return { ...ranked, personalization };
  } finally {
    model.dispose();
  }
}

/**
 * The model a run with the same identity saved under `--load-models`, or undefined without the flag.
 * @throws OmniPersonaError `INVALID_OPTIONS` when the file is missing, unreadable, or from another run.
 */
async function loadModel(mode: EvalMode, context: EvalContext): Promise<RecommenderModel | undefined> {
  const folder = context.modelFiles?.load;
  if (folder === undefined) return undefined;
  const path = join(folder, `${mode}.safetensors`);
  const model = await openSavedModel(path, context.setup, '--load-models', modelIdentity(mode, context));
  context.log(`${mode}: loaded from ${path}, not trained`);
  return model;
}

/** What a saved model of `mode` must match: the run's identity and the mode's own training settings. */
function modelIdentity(mode: EvalMode, context: EvalContext): Record<string, string> {
  const { centralized, federated } = context.settings;
  const training = mode === 'centralized' ? centralized : { ...federated, logEvery: undefined };
  return { ...context.modelFiles?.run, training: JSON.stringify(training) };
}

/**
 * The co-visits table alone (whatever weight the models add it with): each history's
 * co-visits, with popularity (scaled below the smallest co-visit term) ordering the items the
 * table says nothing about and breaking its ties.
 */
async function coVisitsAlone(context: EvalContext): Promise<MetricValues> {
  const { split, cases, items, settings } = context;
  // The models' table when they add one (the same counts), else counted here.
  const table = context.coVisits?.table ?? CoVisits.count(split.train, items, settings.coVisits);
  const popularity = popularityScores(split.train, items);
  const top = popularity.reduce((max, count) => Math.max(max, count), 0) + 1;
  const floor = popularity.map((count) => count / top);
  const { window, recent } = settings.coVisits;
  // The smallest co-visit term, log(1 + 1/(window · recent)), is 2 at this weight: above any floor.
  const weight = 2 / Math.log1p(1 / (window * recent));
  const scorer: BatchScorer = async (histories) => {
    const block = new Float32Array(histories.length * items);
    histories.forEach((history, row) => {
      const scores = block.subarray(row * items, (row + 1) * items);
      scores.set(floor);
      table.addTo(scores, history, { recent, weight });
    });
    return block;
  };
  return evaluateRanking(cases, items, scorer, settings.scoreBatch);
}

/** The same scores for every history. */
function repeated(scores: Float32Array): BatchScorer {
  return async (histories) => {
    const block = new Float32Array(histories.length * scores.length);
    for (let row = 0; row < histories.length; row++) block.set(scores, row * scores.length);
    return block;
  };
}
