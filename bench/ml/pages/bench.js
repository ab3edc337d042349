// The ML bench's page. It imports the built ML module (dist/omnipersona-ml.js, served under /sdk/),
// starts its model runtime on one forced backend, in the model's Web Worker or on this main thread,
// and times each call from this page's main thread: in worker mode a figure includes the round trip.
// The Node driver (bench/ml/measure.mjs) calls `window.bench.*` one step at a time.

// The model's names, shapes, initialisers and signal rows come from the built spec itself
// (dist/npm/core/model/model-spec.js, the tsc output of src/core/model/model-spec.ts, served under
// /sdk/ like the rest of dist/), so the bench follows the model as it changes. It is no part of what
// the SDK loads for the model: the driver leaves /sdk/npm/ out of its fetched-files check.
import {
  HISTORY_LENGTH,
  initialWeights,
  PRICE_BANDS,
  PROFILE_INPUTS,
  SIGNAL_KINDS,
  signalRow,
} from '/sdk/npm/core/model/model-spec.js';

/**
 * How often each signal kind comes up in a shopper's steps (view, cart, purchase, rate): mostly
 * views, as in a real log.
 */
const KIND_SHARES = { view: 0.75, cart: 0.13, purchase: 0.05, rate: 0.07 };
/**
 * Gaps between a shopper's steps: minutes within a session, hours, days and weeks between them, so
 * that a 50-step history reaches every recency bucket of the spec (< 1 h, < 1 day, < 7 days,
 * < 30 days, older).
 */
const GAPS_MS = [
  { share: 0.7, ms: 3 * 60_000 },
  { share: 0.15, ms: 4 * 3_600_000 },
  { share: 0.1, ms: 2 * 86_400_000 },
  { share: 0.05, ms: 12 * 86_400_000 },
];

let runtime;
let config;
let random = seeded(1);
const longTasks = [];
/** [start, end] of every train() call, in performance.now() time: long tasks are counted inside them. */
const trainingWindows = [];

new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) longTasks.push({ start: entry.startTime, duration: entry.duration });
}).observe({ type: 'longtask', buffered: true });

/** mulberry32: a small seeded generator, so every backend sees the same model and inputs. */
function seeded(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian() {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** A key of `shares` drawn in proportion to its share. */
function pick(shares) {
  let left = random();
  for (const [key, share] of shares) {
    left -= share;
    if (left < 0) return key;
  }
  return shares.at(-1)[0];
}

/**
 * Every tensor of the spec (`modelSpec(config)`), random as `initialWeights(config, seed)` makes
 * them, except the item bias: zero there, here a small random bias, as a trained model's
 * popularity would be (so that scores are not the item dot products alone).
 */
function weightsFor(modelConfig, seed) {
  const weights = initialWeights(modelConfig, seed);
  const bias = weights.item_bias.data;
  for (let i = 0; i < bias.length; i++) bias[i] = gaussian() * 0.1;
  return weights;
}

/**
 * Each item's side features: a category and a brand (row 0, "unknown", for about one item in 20),
 * and a price band in [1, PRICE_BANDS) (0, unknown, for one in 20).
 */
function featuresFor({ items, categories, brands }) {
  const row = (rows) => (random() < 0.05 ? 0 : 1 + Math.floor(random() * (rows - 1)));
  return {
    categories: Int32Array.from({ length: items }, () => row(categories)),
    brands: Int32Array.from({ length: items }, () => row(brands)),
    priceBands: Int32Array.from({ length: items }, () => row(PRICE_BANDS)),
  };
}

const KINDS = SIGNAL_KINDS.map((kind) => [kind, KIND_SHARES[kind] ?? 0]);
const GAPS = GAPS_MS.map(({ share, ms }) => [ms, share]);

/**
 * `length` steps of one shopper ending at `end`, oldest first, as `itemSteps` (core/features/history)
 * makes them: a random item, a kind, a time; never the same item twice in a row (itemSteps merges those).
 */
function steps(length, end) {
  const list = [];
  let time = end;
  for (let k = 0; k < length; k++) {
    let item = Math.floor(random() * config.items);
    if (item === list.at(-1)?.item) item = (item + 1) % config.items;
    list.push({ item, kind: pick(KINDS), time });
    time -= pick(GAPS) * (0.5 + random());
  }
  // Built newest first: the walk goes back in time from `end`.
  return list.reverse();
}

function profile() {
  return Float32Array.from({ length: PROFILE_INPUTS }, () => random());
}

/**
 * `historyInput` of src/core/features/history.ts, written out because that module imports the event
 * schema (and its validator) that a page cannot load unbundled: the last HISTORY_LENGTH steps, each
 * step's signal row from its kind and its age at `now`, and the profile.
 */
function historyInput(list, now, shopperProfile) {
  const recent = list.slice(-HISTORY_LENGTH);
  return {
    items: Int32Array.from(recent, (step) => step.item),
    signals: Int32Array.from(recent, (step) => signalRow(step.kind, Math.max(0, now - step.time))),
    profile: shopperProfile,
  };
}

/** `trainingExamples` of src/core/features/history.ts: every step after the first, read as of its own time. */
function trainingExamples(list, shopperProfile) {
  return list.slice(1).map((target, k) => ({
    history: historyInput(list.slice(Math.max(0, k + 1 - HISTORY_LENGTH), k + 1), target.time, shopperProfile),
    target: target.item,
  }));
}

/** The `k` best rows, best first: one pass keeping a sorted top list (the page's part of "top-10"). */
function topK(scores, k) {
  const rows = [];
  const values = [];
  for (let row = 0; row < scores.length; row++) {
    const value = scores[row];
    if (values.length === k && value <= values[k - 1]) continue;
    let at = values.length === k ? k - 1 : values.length;
    while (at > 0 && values[at - 1] < value) {
      values[at] = values[at - 1];
      rows[at] = rows[at - 1];
      at--;
    }
    values[at] = value;
    rows[at] = row;
  }
  return rows;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Moves the caller into a task of the page's own: work run straight inside the driver's
 * `page.evaluate` (a DevTools task) is never reported as a long task, however long it takes.
 */
const ownTask = () => sleep(0);

window.bench = {
  ready: () => ({ crossOriginIsolated: self.crossOriginIsolated }),

  /** What GPU this browser offers: a fallback (software) WebGPU adapter, WebGL's renderer string. */
  async gpuInfo() {
    const info = {};
    try {
      const adapter = await navigator.gpu?.requestAdapter();
      const details = adapter?.info ?? {};
      info.webgpu = adapter
        ? {
            fallback: adapter.isFallbackAdapter ?? details.isFallbackAdapter,
            vendor: details.vendor,
            architecture: details.architecture,
            description: details.description,
          }
        : null;
    } catch (error) {
      info.webgpu = { error: String(error) };
    }
    try {
      const gl = document.createElement('canvas').getContext('webgl2');
      const debug = gl?.getExtension('WEBGL_debug_renderer_info');
      info.webgl = gl ? gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER) : null;
      gl?.getExtension('WEBGL_lose_context')?.loseContext();
    } catch (error) {
      info.webgl = { error: String(error) };
    }
    return info;
  },

  /** Starts the runtime on `backend` (forced: tried first even on a software GPU); says which one it got. */
  async start({ backend, worker }) {
    const started = performance.now();
    const ml = await import('/sdk/omnipersona-ml.js');
    let workerFailure;
    runtime = await ml.startModelRuntime({
      backend,
      worker,
      wasmPaths: '/sdk/wasm/',
      onWorkerFailure: (error) => {
        workerFailure = String(error?.message ?? error);
      },
    });
    return { backend: runtime.backend, ms: performance.now() - started, workerFailure };
  },

  /** Loads a model of `items` rows; the same seed gives every backend the same weights and features. */
  async load({ items, categories, brands, dim, seed }) {
    random = seeded(seed);
    config = { items, categories, brands, dim };
    const weights = weightsFor(config, seed);
    const features = featuresFor(config);
    const started = performance.now();
    await runtime.load(config, weights, features);
    return { ms: performance.now() - started, backend: runtime.backend };
  },

  /**
   * Top-10 for a shopper: `score(history)` and the page's top-10 selection, timed together. The
   * first `warmup` calls (at least one; shader compilation on a GPU backend) are untimed; then up to `reps`
   * calls, fewer when `budgetMs` runs out (never fewer than `minReps`).
   */
  async inference({ warmup, reps, minReps, budgetMs, historyLength }) {
    const now = Date.now();
    const histories = Array.from({ length: 16 }, () => historyInput(steps(historyLength, now), now, profile()));
    const warmupMs = [];
    // The first history's top-10, the same on every backend: the driver compares them.
    let top = [];
    for (let n = 0; n < Math.max(1, warmup); n++) {
      const started = performance.now();
      const best = topK(await runtime.score(histories[n % histories.length]), 10);
      warmupMs.push(performance.now() - started);
      if (n === 0) top = best;
    }
    const samples = [];
    const selectMs = [];
    const deadline = performance.now() + budgetMs;
    for (let n = 0; n < reps && (n < minReps || performance.now() < deadline); n++) {
      const started = performance.now();
      const scores = await runtime.score(histories[n % histories.length]);
      const scored = performance.now();
      topK(scores, 10);
      const ended = performance.now();
      samples.push(ended - started);
      selectMs.push(ended - scored);
      if (scores.length !== config.items)
        throw new Error(`score() gave ${scores.length} values for ${config.items} items`);
    }
    return { warmupMs, samples, selectMs, top, backend: runtime.backend };
  },

  /**
   * `calls` train() calls, each on `examples` examples for one epoch (one Adam step per 128 examples),
   * after `warmup` untimed calls. Each example is a random shopper's history of 1 to HISTORY_LENGTH
   * steps and a random next item. Returns each call's report and its wall time from this page.
   */
  async train({ warmup, calls, examples, budgetMs }) {
    const now = Date.now();
    const batch = Array.from({ length: examples }, () => {
      const history = historyInput(steps(1 + Math.floor(random() * HISTORY_LENGTH), now), now, profile());
      return { history, target: Math.floor(random() * config.items) };
    });
    const run = async () => {
      await ownTask();
      const started = performance.now();
      const report = await runtime.train(batch, { epochs: 1, timeBudgetMs: budgetMs });
      const ended = performance.now();
      trainingWindows.push([started, ended]);
      return { ...report, wallMs: ended - started };
    };
    const first = [];
    for (let n = 0; n < warmup; n++) first.push(await run());
    const timed = [];
    for (let n = 0; n < calls; n++) timed.push(await run());
    return { first, timed, backend: runtime.backend };
  },

  /** Fine-tune on `events` new events: one train() call on their next-item examples (histories grow along the way). */
  async fineTune({ events, budgetMs, reps }) {
    const runs = [];
    for (let n = 0; n < reps; n++) {
      const examples = trainingExamples(steps(events + 1, Date.now()), profile());
      await ownTask();
      const started = performance.now();
      const report = await runtime.train(examples, { epochs: 1, timeBudgetMs: budgetMs });
      const ended = performance.now();
      trainingWindows.push([started, ended]);
      runs.push({ ...report, wallMs: ended - started });
    }
    return { runs, backend: runtime.backend };
  },

  /** Long tasks on this main thread that overlap a train() call (the observer reports them a little late). */
  async longTasks() {
    await sleep(300);
    const during = longTasks.filter(({ start, duration }) =>
      trainingWindows.some(([from, to]) => start < to && start + duration > from),
    );
    return {
      count: during.length,
      maxMs: Math.max(0, ...during.map((task) => task.duration)),
      totalMs: during.reduce((total, task) => total + task.duration, 0),
      trainingMs: trainingWindows.reduce((total, [from, to]) => total + (to - from), 0),
    };
  },

  async dispose() {
    await runtime?.dispose();
    runtime = undefined;
  },
};
