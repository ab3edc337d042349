// The ML bench's page. It imports the built ML module (dist/omnipersona-ml.js, served under /sdk/),
// starts its model runtime on one forced backend, in the model's Web Worker or on this main thread,
// and times each call from this page's main thread: in worker mode a figure includes the round trip.
// The Node driver (bench/ml/measure.mjs) calls `window.bench.*` one step at a time.

/** The SDK's history features (src/core/features/history.ts): event weights, 14-day half-life, last 50 steps. */
const EVENT_WEIGHTS = [1, 3, 4];
const HALF_LIFE_MS = 14 * 24 * 3600 * 1000;
const MAX_HISTORY = 50;

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

function normal(length, scale) {
  const data = new Float32Array(length);
  for (let i = 0; i < length; i++) data[i] = gaussian() * scale;
  return data;
}

/**
 * Weights with the tensor names and shapes of src/core/model/model-spec.ts (`modelSpec`): random like
 * `initialWeights`, except a small random item bias, as a trained model's popularity would be.
 */
function weightsFor({ items, categories, dim }) {
  const projection = new Float32Array(dim * dim);
  for (let i = 0; i < dim; i++) projection[i * dim + i] = 1;
  return {
    item_embedding: { shape: [items, dim], data: normal(items * dim, 0.05) },
    category_embedding: { shape: [categories, dim], data: normal(categories * dim, 0.3) },
    item_bias: { shape: [items], data: normal(items, 0.1) },
    user_projection: { shape: [dim, dim], data: projection },
  };
}

/** `length` item steps over random items, one every few minutes up to `now`. */
function steps(length, now) {
  return Array.from({ length }, (_, k) => ({
    item: Math.floor(random() * config.items),
    weight: EVENT_WEIGHTS[Math.floor(random() * EVENT_WEIGHTS.length)],
    time: now - (length - k) * 5 * 60_000,
  }));
}

/** What `historyInput` makes of the steps: the last 50, weighted by event type and recency. */
function historyInput(list, now) {
  const recent = list.slice(-MAX_HISTORY);
  return {
    items: Int32Array.from(recent, (step) => step.item),
    weights: Float32Array.from(recent, (step) => step.weight * 0.5 ** ((now - step.time) / HALF_LIFE_MS)),
  };
}

/** What `trainingExamples` makes of the steps: every step after the first, with the steps before it. */
function examplesFrom(list) {
  return list
    .slice(1)
    .map((target, k) => ({ history: historyInput(list.slice(0, k + 1), target.time), target: target.item }));
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

  /** Loads a model of `items` rows; the same seed gives every backend the same weights. */
  async load({ items, categories, dim, seed }) {
    random = seeded(seed);
    config = { items, categories, dim };
    const weights = weightsFor(config);
    const categoryOf = Int32Array.from({ length: items }, () => 1 + Math.floor(random() * (categories - 1)));
    const started = performance.now();
    await runtime.load(config, weights, { categories: categoryOf });
    return { ms: performance.now() - started, backend: runtime.backend };
  },

  /**
   * Top-10 for a shopper: `score(history)` and the page's top-10 selection, timed together. The
   * first `warmup` calls (at least one; shader compilation on a GPU backend) are untimed; then up to `reps`
   * calls, fewer when `budgetMs` runs out (never fewer than `minReps`).
   */
  async inference({ warmup, reps, minReps, budgetMs, historyLength }) {
    const now = Date.now();
    const histories = Array.from({ length: 16 }, () => historyInput(steps(historyLength, now), now));
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
   * after `warmup` untimed calls. Returns each call's report and its wall time from this page.
   */
  async train({ warmup, calls, examples, budgetMs }) {
    const now = Date.now();
    const batch = Array.from({ length: examples }, () => {
      const history = historyInput(steps(1 + Math.floor(random() * 30), now), now);
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
      const examples = examplesFrom(steps(events + 1, Date.now()));
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
