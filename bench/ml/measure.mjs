import { openBenchPage, withTimeout } from '../tracking/browser.mjs';
import { median, percentile } from '../tracking/stats.mjs';

/**
 * The model every run loads: the server's default width (SYNC_SERVER_DEFAULTS.modelDim, 64), a
 * catalog's worth of categories and brands, and shoppers' histories as long as the model reads
 * (HISTORY_LENGTH of src/core/model/model-spec.ts: the page keeps the last that many steps).
 */
export const MODEL = { dim: 64, categories: 50, brands: 200, historyLength: 50, seed: 1 };
/** Catalog sizes: inference at all three, training steps at the first two, the fine-tune at 10k. */
export const ITEMS = { inference: [1_000, 10_000, 100_000], training: [1_000, 10_000], fineTune: 10_000 };
/** Examples per timed train() call: two of the SDK's 128-example batches, so two Adam steps a call. */
export const TRAIN_EXAMPLES = 256;
/** The SDK's batch (src/ml/train-model.ts). */
export const BATCH_SIZE = 128;
export const FINE_TUNE = { events: 100, timeBudgetMs: 5_000 };

/**
 * How much work each backend gets. The GPU backends here run in software (SwiftShader) and take
 * seconds where WASM takes milliseconds, so they get fewer repetitions and a time budget: a step
 * whose estimated cost does not fit in what is left of its backend's budget is skipped, and the
 * output says so.
 */
export const EFFORT = {
  fast: {
    worker: { budgetMs: 60_000, fineTuneReps: 3 },
    mainThread: { budgetMs: 20_000, fineTuneReps: 3 },
    inference: { warmup: 3, reps: 100, minReps: 10, budgetMs: 2_000 },
    train: { warmup: 1, calls: 3 },
  },
  gpu: {
    worker: { budgetMs: 100_000, fineTuneReps: 1 },
    mainThread: { budgetMs: 30_000, fineTuneReps: 1 },
    inference: { warmup: 2, reps: 30, minReps: 3, budgetMs: 1_500 },
    train: { warmup: 1, calls: 1 },
  },
};
export const isGpu = (backend) => backend === 'webgpu' || backend === 'webgl';

/** Extra time a page call may take beyond its estimate before the run gives up on that backend. */
const CALL_MARGIN_MS = 30_000;

/**
 * Measures one backend in one mode, in a fresh browser context (TF.js' backend is global to a
 * page): starts the runtime forced onto the backend, then inference at each catalog size, training
 * steps, the fine-tune, and the main thread's long tasks during training.
 *
 * 'worker' mode runs everything. 'main thread' mode (the SDK's fallback when no worker starts)
 * runs only 10k-item inference and the fine-tune, for contrast; `reference` (the same backend's
 * worker result) gives it cost estimates.
 *
 * @param {import('@playwright/test').Browser} browser
 * @param {{ origin: string }} server
 * @param {{ backend: string, mode: 'worker' | 'main thread', reference?: object, log: (message: string) => void }} run
 */
export async function measureBackend(browser, server, run) {
  const measurement = new BackendMeasurement(run);
  return measurement.run(await openBenchPage(browser, `${server.origin}/index.html`));
}

class BackendMeasurement {
  #effort;
  #plan;
  #started = performance.now();
  #page;
  #log;
  /** Per-call cost at the last size measured, to estimate the next (costs grow about linearly in items). */
  #lastCall;

  constructor({ backend, mode, reference, log }) {
    this.#effort = isGpu(backend) ? EFFORT.gpu : EFFORT.fast;
    this.#plan = mode === 'worker' ? this.#effort.worker : this.#effort.mainThread;
    this.#log = (message) => log(`${backend} (${mode}): ${message}`);
    this.result = { backend, mode, budgetMs: this.#plan.budgetMs, inference: [], training: [], skipped: [] };
    const referenceCall = reference?.inference.find((entry) => entry.p50Ms !== undefined);
    if (referenceCall) this.#lastCall = { items: referenceCall.items, ms: referenceCall.p50Ms };
    this.reference = reference;
  }

  async run(bench) {
    this.#page = bench.page;
    const { result } = this;
    const worker = result.mode === 'worker';
    try {
      result.gpu = await this.#call('gpuInfo', undefined, 20_000);
      const start = await this.#call('start', { backend: result.backend, worker }, 120_000);
      Object.assign(result, { got: start.backend, startMs: start.ms, workerFailure: start.workerFailure });
      this.#log(`started on ${start.backend} in ${(start.ms / 1000).toFixed(1)} s`);
      for (const items of worker ? ITEMS.inference : [ITEMS.fineTune]) {
        if (!(await this.#inference(items))) continue;
        if (worker && ITEMS.training.includes(items)) result.training.push(await this.#trainingSteps(items));
        if (items === ITEMS.fineTune) result.fineTune = await this.#fineTune(items);
      }
      result.longTasks = await this.#call('longTasks', undefined, 10_000);
      await this.#call('dispose', undefined, 30_000);
    } catch (error) {
      result.error = error instanceof Error ? error.message : String(error);
      this.#log(result.error);
    } finally {
      result.fetched = await bench.fetched().catch(() => []);
      result.problems = bench.problems;
      result.seconds = (performance.now() - this.#started) / 1000;
      await bench.close().catch(() => undefined);
    }
    return result;
  }

  /** Loads a model of `items` rows and times top-10 on it; false when skipped for the budget. */
  async #inference(items) {
    const plan = { ...this.#effort.inference, historyLength: MODEL.historyLength };
    if (this.result.mode !== 'worker') plan.reps = Math.min(plan.reps, 30);
    const estimate = this.#lastCall
      ? (this.#lastCall.ms * items * (plan.warmup + plan.minReps)) / this.#lastCall.items
      : 0;
    if (this.#skips(`inference at ${items.toLocaleString('en')} items`, estimate)) {
      this.result.inference.push({ items, skipped: true });
      return false;
    }
    await this.#call('load', { items, ...MODEL }, 60_000 + estimate);
    const { warmupMs, samples, selectMs, top, backend } = await this.#call(
      'inference',
      plan,
      estimate + plan.budgetMs + CALL_MARGIN_MS,
    );
    const summary = {
      items,
      backend,
      n: samples.length,
      p50Ms: percentile(samples, 0.5),
      p95Ms: percentile(samples, 0.95),
      selectP50Ms: percentile(selectMs, 0.5),
      warmupMs,
      top,
    };
    this.result.inference.push(summary);
    this.#lastCall = { items, ms: summary.p50Ms };
    this.#log(`top-10 of ${items} items: p50 ${summary.p50Ms.toFixed(2)} ms over ${summary.n} calls`);
    return true;
  }

  /**
   * train() calls of {@link TRAIN_EXAMPLES} examples (two steps each) after an untimed warm-up call
   * (shader compilation on a GPU backend). Figure: the median of report.milliseconds / report.steps.
   */
  async #trainingSteps(items) {
    let { warmup, calls } = this.#effort.train;
    const perCall = this.#stepEstimate(items) * (TRAIN_EXAMPLES / BATCH_SIZE);
    // The fine-tune that follows at this size keeps its share of the budget: it is a goal of its own.
    const reserve = items === ITEMS.fineTune ? this.#stepEstimate(items) * this.#plan.fineTuneReps : 0;
    // When the warm-up does not fit, the larger model's first call is the timed one (and says so).
    if (perCall * (warmup + calls) > this.#left() - reserve) warmup = 0;
    if (this.#skips(`training steps at ${items.toLocaleString('en')} items`, perCall * calls, reserve)) {
      return { items, skipped: true };
    }
    const run = await this.#call(
      'train',
      { warmup, calls, examples: TRAIN_EXAMPLES, budgetMs: 600_000 },
      Math.max(perCall * (warmup + calls) * 3, 60_000) + CALL_MARGIN_MS,
    );
    const perStep = run.timed.map((report) => report.milliseconds / report.steps);
    const summary = {
      items,
      backend: run.backend,
      calls: run.timed.length,
      steps: run.timed.reduce((total, report) => total + report.steps, 0),
      msPerStep: median(perStep),
      msPerStepRuns: perStep,
      warmupCallMs: run.first[0]?.milliseconds,
      warmedUp: warmup > 0,
      initialLoss: (run.first[0] ?? run.timed[0])?.initialLoss,
      loss: run.timed.at(-1)?.loss,
    };
    this.#log(`training step at ${items} items: ${summary.msPerStep.toFixed(0)} ms (${summary.steps} steps timed)`);
    return summary;
  }

  /** Fine-tune on {@link FINE_TUNE}.events new events: one train() call (one step), timed from the page. */
  async #fineTune(items) {
    const reps = this.#plan.fineTuneReps;
    // One step of 100 examples; on the main thread, what the same backend's worker run took.
    const known =
      this.reference?.fineTune?.wallMs ??
      this.reference?.training.find((entry) => entry.items === items)?.msPerStep ??
      this.#stepEstimate(items);
    if (this.#skips(`fine-tune at ${items.toLocaleString('en')} items`, known * reps)) return { items, skipped: true };
    const { runs, backend } = await this.#call(
      'fineTune',
      { events: FINE_TUNE.events, budgetMs: FINE_TUNE.timeBudgetMs, reps },
      Math.max(known * reps * 3, 60_000) + CALL_MARGIN_MS,
    );
    // On the main thread the fine-tune is the page's first train() call, so its first run pays the
    // warm-up (WASM compilation of new shapes, GPU shaders): later runs, where there are any, are the figure.
    const cold = this.result.mode !== 'worker';
    const timed = cold && runs.length > 1 ? runs.slice(1) : runs;
    const wallMs = median(timed.map((run) => run.wallMs));
    this.#log(`fine-tune on ${FINE_TUNE.events} events at ${items} items: ${wallMs.toFixed(0)} ms`);
    return {
      items,
      backend,
      wallMs,
      timedRuns: timed.length,
      /** True when the figure is the page's first train() call, warm-up included. */
      coldOnly: cold && runs.length === 1,
      runs: runs.map(({ wallMs, milliseconds, steps, examples }) => ({ wallMs, milliseconds, steps, examples })),
    };
  }

  /** One training step at `items`, scaled from the last size measured (0 before any). */
  #stepEstimate(items) {
    const previous = this.result.training.findLast((entry) => entry.msPerStep !== undefined);
    return previous ? (previous.msPerStep * items) / previous.items : 0;
  }

  #left() {
    return this.#plan.budgetMs - (performance.now() - this.#started);
  }

  /**
   * True (and noted) when a step estimated at `estimateMs` does not fit in what is left of the
   * budget, less `reserveMs` kept for a later step.
   */
  #skips(what, estimateMs, reserveMs = 0) {
    const left = this.#left() - reserveMs;
    if (estimateMs <= left) return false;
    const { backend, mode, budgetMs } = this.result;
    const reason =
      `${backend} (${mode}) ${what}: skipped, estimated at ${(estimateMs / 1000).toFixed(0)} s with ` +
      `${(Math.max(0, left) / 1000).toFixed(0)} s left of the backend's ${budgetMs / 1000} s budget`;
    this.result.skipped.push(reason);
    this.#log(`${what} skipped (budget)`);
    return true;
  }

  /** `window.bench[name](arg)` in the page, given up after `limitMs`. */
  #call(name, arg, limitMs) {
    return withTimeout(
      this.#page.evaluate(([fn, value]) => window.bench[fn](value), [name, arg]),
      limitMs,
      `bench.${name}`,
    );
  }
}
