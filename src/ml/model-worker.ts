/**
 * The model's Web Worker: the TF.js runtime runs here, off the page's main thread, and the page
 * talks to it through {@link WorkerModelRuntime}. On WebGL, TF.js draws on an OffscreenCanvas.
 */
import { expose, transfer } from 'comlink';
import { toOmniPersonaError } from '../core/errors.js';
import type {
  HistoryInput,
  ItemFeatures,
  ModelRuntime,
  TrainingExample,
  TrainOptions,
} from '../core/model/model-runtime.js';
import type { ModelConfig } from '../core/model/model-spec.js';
import type { WeightSet } from '../core/model/weights.js';
import { createModelRuntime, type ModelRuntimeOptions } from './create-model-runtime.js';
import type { WorkerReply } from './worker-reply.js';

let runtime: ModelRuntime | undefined;

/**
 * Answers every call with its value and the backend in use after it (a call may move the runtime
 * to another backend), or with the error's code and message: Comlink would pass an Error on
 * without its `code`.
 */
async function reply<T>(run: (runtime: ModelRuntime) => Promise<T>, transfers?: (value: T) => Transferable[]) {
  try {
    if (!runtime) throw new Error('The model worker has not started');
    const value = await run(runtime);
    const answer: WorkerReply<T> = { ok: true, value, backend: runtime.backend };
    return transfers ? transfer(answer, transfers(value)) : answer;
  } catch (error) {
    const failure = toOmniPersonaError(error, 'MODEL_UNAVAILABLE', 'The model worker failed');
    return { ok: false, code: failure.code, message: failure.message } satisfies WorkerReply<T>;
  }
}

const api = {
  async start(options: ModelRuntimeOptions): Promise<WorkerReply<null>> {
    try {
      runtime ??= await createModelRuntime(options);
      return { ok: true, value: null, backend: runtime.backend };
    } catch (error) {
      const failure = toOmniPersonaError(error, 'BACKEND_UNAVAILABLE', 'Starting the model worker failed');
      return { ok: false, code: failure.code, message: failure.message };
    }
  },
  load: (config: ModelConfig, weights: WeightSet, features: ItemFeatures) =>
    reply((model) => model.load(config, weights, features).then(() => null)),
  weights: () => reply((model) => model.weights(), weightBuffers),
  train: (examples: TrainingExample[], options?: TrainOptions) => reply((model) => model.train(examples, options)),
  score: (history: HistoryInput) =>
    reply(
      (model) => model.score(history),
      (scores) => [scores.buffer as ArrayBuffer],
    ),
  dispose: () => reply((model) => model.dispose().then(() => null)),
};

export type ModelWorkerApi = typeof api;

function weightBuffers(weights: WeightSet): Transferable[] {
  return Object.values(weights).map((tensor) => tensor.data.buffer as ArrayBuffer);
}

expose(api);
