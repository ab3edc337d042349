import { BATCH_SIZE, EFFORT, FINE_TUNE, ITEMS, isGpu, MODEL, TRAIN_EXAMPLES } from './measure.mjs';

const ms = (value) =>
  value === undefined ? '—' : value === 0 ? '0' : value < 10 ? value.toFixed(2) : value.toFixed(0);
const kib = (bytes) => (bytes / 1024).toFixed(1);
const SIZE_GOAL_BYTES = 200 * 1024;
/** Goal per backend for top-10 of 10k items, in ms. */
const INFERENCE_GOAL_MS = { webgpu: 2, webgl: 2, wasm: 5 };
const TRAIN_GOAL_MS = 1_000;

/** What ran where: the requested backend, and the one the runtime reported if it fell back. */
function ranOn(run, entry) {
  const actual = entry?.backend ?? run.got;
  return actual && actual !== run.backend ? `${actual} (fell back)` : actual;
}

/** Prints the ML bench's tables: inference, training, fine-tune and long tasks, sizes, goals, notes. */
export function printMlReport(result) {
  const software = isSoftwareGpu(result.gpu);
  console.log(
    `ML: top-10 inference, training, long tasks, size (Chromium ${result.chromium}, model dim ${MODEL.dim})` +
      (software ? ' — GPU backends on a SOFTWARE GPU (SwiftShader): their figures are not representative' : ''),
  );
  const reference = new Map(
    result.runs
      .filter((run) => run.backend === 'wasm' && run.mode === 'worker')
      .flatMap((run) => run.inference.filter((entry) => entry.top).map((entry) => [entry.items, entry.top])),
  );
  console.log(
    `Top-10 for a ${MODEL.historyLength}-step history: score() + top-10 selection, timed on the page’s main thread (ms)`,
  );
  console.table(
    result.runs.flatMap((run) =>
      run.inference.map((entry) => ({
        backend: run.backend,
        'ran on': ranOn(run, entry),
        mode: run.mode,
        items: entry.items.toLocaleString('en'),
        p50: entry.skipped ? 'skipped' : ms(entry.p50Ms),
        p95: entry.skipped ? '' : ms(entry.p95Ms),
        calls: entry.n ?? 0,
        'top-10 pick p50': entry.skipped ? '' : ms(entry.selectP50Ms),
        'first call': entry.warmupMs ? ms(entry.warmupMs[0]) : '',
        'same top-10 as wasm':
          entry.top && reference.has(entry.items) ? overlap(entry.top, reference.get(entry.items)) : '',
      })),
    ),
  );

  console.log(
    `Training in the worker: train() on ${TRAIN_EXAMPLES} examples, ${TRAIN_EXAMPLES / BATCH_SIZE} Adam steps a call (ms)`,
  );
  console.table(
    result.runs
      .filter((run) => run.mode === 'worker')
      .flatMap((run) =>
        run.training.map((entry) => ({
          backend: run.backend,
          'ran on': ranOn(run, entry),
          items: entry.items.toLocaleString('en'),
          'per step': entry.skipped ? 'skipped' : ms(entry.msPerStep),
          'steps timed': entry.steps ?? 0,
          'warm-up call': entry.skipped ? '' : entry.warmedUp ? ms(entry.warmupCallMs) : 'none (budget)',
          loss: entry.skipped ? '' : `${entry.initialLoss?.toFixed(2)} → ${entry.loss?.toFixed(2)}`,
        })),
      ),
  );

  console.log(
    `Fine-tune on ${FINE_TUNE.events} new events (${ITEMS.fineTune.toLocaleString('en')} items, one train() call), ` +
      "and long tasks on the page's main thread during every train() call of the run",
  );
  console.table(
    result.runs.map((run) => ({
      backend: run.backend,
      'ran on': ranOn(run, run.fineTune),
      mode: run.mode,
      'fine-tune ms': run.fineTune?.skipped
        ? 'skipped'
        : ms(run.fineTune?.wallMs) + (run.fineTune?.coldOnly ? ' (cold)' : ''),
      runs: run.fineTune?.timedRuns ?? 0,
      'long tasks': run.longTasks?.count ?? '—',
      'longest ms': run.longTasks ? ms(run.longTasks.maxMs) : '—',
      'training ms': run.longTasks ? ms(run.longTasks.trainingMs) : '—',
    })),
  );

  console.log(
    'Size: gzip -9 of the scripts a page fetches for the model (files the app module already loaded left out)',
  );
  console.table(
    result.sizes.sets.map((set) => ({
      page: set.where === 'worker' ? 'model in the worker' : 'main thread (no worker)',
      backends: set.backends.join(' + '),
      'KiB gzip': kib(set.gzipBytes),
      'KiB raw': kib(set.bytes),
      files: set.files.length,
    })),
  );

  console.log('Goals');
  console.table(result.goals.map(({ goal, value, met }) => ({ goal, value, met: met ? '✓' : '✗' })));
  for (const run of result.runs) for (const reason of run.skipped) console.log(`  ${reason}`);
  for (const check of result.checks.filter((entry) => !entry.ok)) console.log(`  BROKEN ${check.what}`);
  console.log('Notes');
  for (const note of result.method) console.log(`  - ${note}`);
  if (!result.valid)
    console.log('Some setup checks failed (BROKEN above): these figures do not measure a working model.');
}

/** The goals of the issue, judged on the worker-mode figures (how the SDK runs the model). */
export function goals(result) {
  const worker = result.runs.filter((run) => run.mode === 'worker');
  const rows = [];
  const tag = (run) => (isGpu(run.backend) && isSoftwareGpu(result.gpu) ? ' (software GPU)' : '');
  const fell = (run, actual) => (actual && actual !== run.backend ? `, ran on ${actual}` : '');
  for (const run of worker.filter((entry) => INFERENCE_GOAL_MS[entry.backend])) {
    const goal = INFERENCE_GOAL_MS[run.backend];
    const entry = run.inference.find((item) => item.items === 10_000);
    rows.push({
      goal: `top-10 of 10k items p50 ≤ ${goal} ms, ${run.backend}`,
      value:
        entry?.p50Ms === undefined
          ? 'not measured'
          : `p50 ${ms(entry.p50Ms)} ms, p95 ${ms(entry.p95Ms)} ms${fell(run, entry.backend)}${tag(run)}`,
      met: entry?.p50Ms !== undefined && entry.backend === run.backend && entry.p50Ms <= goal,
    });
  }
  for (const run of worker) {
    const steps = run.training.filter((entry) => entry.msPerStep !== undefined);
    const largest = steps.at(-1);
    rows.push({
      goal: `training step ≤ 1 s in the worker, ${run.backend}`,
      value:
        steps.length === 0
          ? 'not measured'
          : `${steps.map((entry) => `${ms(entry.msPerStep)} ms at ${entry.items / 1000}k`).join(', ')}${fell(run, largest.backend)}${tag(run)}`,
      met:
        largest !== undefined &&
        largest.backend === run.backend &&
        largest.items === ITEMS.training.at(-1) &&
        largest.msPerStep <= TRAIN_GOAL_MS,
    });
    const fineTune = run.fineTune?.wallMs;
    rows.push({
      goal: `fine-tune on ${FINE_TUNE.events} events ≤ 1 s in the worker, ${run.backend}`,
      value:
        fineTune === undefined
          ? 'not measured'
          : `${ms(fineTune)} ms at ${ITEMS.fineTune / 1000}k${fell(run, run.fineTune.backend)}${tag(run)}`,
      met: fineTune !== undefined && run.fineTune.backend === run.backend && fineTune <= TRAIN_GOAL_MS,
    });
  }
  const measured = worker.filter((run) => run.longTasks);
  rows.push({
    goal: 'no long task on the main thread while the worker trains',
    value: measured.map((run) => `${run.backend} ${run.longTasks.count}`).join(', ') || 'not measured',
    met: measured.length > 0 && measured.every((run) => run.longTasks.count === 0),
  });
  for (const set of result.sizes.sets.filter((entry) => entry.where === 'worker' && entry.backends.length > 1)) {
    rows.push({
      goal: `model ≤ 200 KiB gzipped, worker page, ${set.backends.join(' + ')}`,
      value: `${kib(set.gzipBytes)} KiB`,
      met: set.gzipBytes <= SIZE_GOAL_BYTES,
    });
  }
  return rows;
}

export function methodNotes(result) {
  const notes = [];
  const gpu = result.gpu ?? {};
  if (isSoftwareGpu(gpu)) {
    notes.push(
      'GPU figures here come from a SOFTWARE GPU and are NOT representative of WebGPU/WebGL on real hardware: ' +
        `WebGPU's adapter is a fallback adapter (${[gpu.webgpu?.vendor, gpu.webgpu?.architecture].filter(Boolean).join(' ')}), ` +
        `WebGL's renderer is "${gpu.webgl}". The SDK's 'auto' skips software GPUs; the bench forces each backend by name.`,
    );
  }
  notes.push(
    `Model: the recommender of src/core/model/model-spec.ts at dim ${MODEL.dim} (the server's default width): item ` +
      `vectors from the item's embedding plus its category (${MODEL.categories}), brand (${MODEL.brands}) and price-band ` +
      'embeddings; an attention encoder in which the most recent step attends over the history (item vector + signal + ' +
      'position), then a residual hidden layer with the profile features and the personal vector; scores are dot products ' +
      "plus the item bias. Weights: every tensor of the spec, from the built spec's own initialWeights (imported by the " +
      'page from dist/npm/core/model/model-spec.js; same seed on every backend), except a small random item bias where ' +
      "the spec starts at zero, as a trained model's popularity would be. Item side features: random category, brand " +
      'and price band (1 item in 20 unknown in each). Loaded into the built ML module (dist/omnipersona-ml.js) through ' +
      'startModelRuntime({ backend, worker }).',
    `Inference: score(history) for a ${MODEL.historyLength}-step history (the last steps the model reads) plus a ` +
      'one-pass top-10 selection in the page. Each step is an item and a signal, its kind (view, cart, purchase, rate; ' +
      'mostly views) × its recency bucket at scoring (< 1 h, < 1 day, < 7 days, < 30 days, older; gaps of minutes to ' +
      'weeks between steps reach them all), as historyInput of src/core/features/history.ts builds them (replicated in ' +
      'the page: that module imports the event schema, which a page cannot load unbundled), with random profile ' +
      'features. Timed end to end on the page’s main thread — in worker ' +
      "mode that includes the round trip to the worker. Untimed warm-up calls first ('first call' is the very first); " +
      `then up to ${EFFORT.fast.inference.reps} calls (GPU ${EFFORT.gpu.inference.reps}) within ${EFFORT.fast.inference.budgetMs / 1000} s ` +
      `(GPU ${EFFORT.gpu.inference.budgetMs / 1000} s), at least ${EFFORT.fast.inference.minReps} (GPU ${EFFORT.gpu.inference.minReps}). ` +
      "Goals are judged on p50; 'same top-10 as wasm' compares the first history's top-10 with the WASM worker's.",
    `Training step: train() on ${TRAIN_EXAMPLES} random next-item examples (histories of 1–${MODEL.historyLength} steps ` +
      `with signals as above, a random target), 1 epoch = ` +
      `${TRAIN_EXAMPLES / BATCH_SIZE} Adam steps of the SDK's ${BATCH_SIZE}-example batch; the figure is the median over timed calls of ` +
      'report.milliseconds / report.steps, which includes the loss before and after and reading the weights back. One ' +
      'untimed warm-up call first (compiles shaders on GPU backends; dropped when the budget is short, shown as ' +
      `'none (budget)', and then the timed call includes any compiling); calls timed: ${EFFORT.fast.train.calls} (GPU ${EFFORT.gpu.train.calls}).`,
    `Fine-tune: ${FINE_TUNE.events + 1} new steps of one shopper (random items, kinds and gaps) become ` +
      `${FINE_TUNE.events} next-item examples, each read as of its target's time, whose histories grow along the sequence ` +
      `(the last ${MODEL.historyLength} steps at most, as trainingExamples of core/features/history builds them), trained in one train() call ` +
      `(epochs 1, timeBudgetMs ${FINE_TUNE.timeBudgetMs}; one step), at ${ITEMS.fineTune.toLocaleString('en')} items, timed ` +
      'from the page. In the worker it follows the training-step calls on the same model; on the main thread it is ' +
      "the page's first train() call, so its first run is untimed where there are several ('(cold)' where there is only one). " +
      'On GPU backends (one run) the figure includes compiling shaders for the 100-example batch shape, as a real ' +
      "fine-tune pays whenever its batch size is new to the page. At the fine-tune's size the training-step calls " +
      'leave the fine-tune its estimated share of the budget.',
    "Long tasks: a PerformanceObserver({ type: 'longtask' }) on the page, counting tasks that overlap any train() call " +
      "of the run. Each call starts from a task of the page's own: work run straight from the driver's page.evaluate " +
      'is never reported as a long task.',
    `Budgets: each backend has ${EFFORT.fast.worker.budgetMs / 1000} s (GPU ${EFFORT.gpu.worker.budgetMs / 1000} s) in worker ` +
      `mode and ${EFFORT.fast.mainThread.budgetMs / 1000} s (GPU ${EFFORT.gpu.mainThread.budgetMs / 1000} s) on the main thread; ` +
      'a step whose estimate (scaled from the previous size) does not fit is skipped and listed above. The main-thread ' +
      `runs (the SDK's fallback when no worker starts) cover only ${ITEMS.fineTune.toLocaleString('en')}-item inference and the fine-tune.`,
    'Each backend runs in its own Chromium launch, each mode in a fresh context; the page is served with COOP/COEP ' +
      '(performance.now() ticks in 5 µs). One run of each figure on a shared 2-core machine: read them as rough.',
  );
  const fallbacks = result.runs.filter((run) => run.got && run.got !== run.backend);
  for (const run of fallbacks) {
    notes.push(`${run.backend} (${run.mode}) could not be forced: the runtime started on ${run.got}.`);
  }
  const worker = result.sizes.sets.find((set) => set.where === 'worker');
  const mainThreadCopies = worker?.files.filter((file) => file.file.startsWith('ml/')) ?? [];
  notes.push(
    'Sizes: the import graph read from the built files (static imports, each backend chunk the worker imports ' +
      "dynamically, the worker named by `new URL(…, import.meta.url)`), each file gzip -9'd on its own; the " +
      'worker runs check it against what their page fetched. Not counted: the WASM binary the WASM backend fetches ' +
      `(${result.sizes.wasmBinaries.map((file) => `${file.file} ${kib(file.gzip)} KiB gzip`).join(', ')}), and the ` +
      `app module's chunks (${[...new Set(result.sizes.sets.flatMap((set) => set.sharedWithApp.map((file) => file.file)))].join(', ') || 'none'}).`,
  );
  if (mainThreadCopies.length > 0) {
    notes.push(
      `A worker page also fetches main-thread TF.js it does not use in worker mode: ${mainThreadCopies
        .map((file) => `${file.file} ${kib(file.gzip)} KiB`)
        .join(', ')} gzip (static imports of omnipersona-ml.js), inside the worker figures.`,
    );
  }
  return notes;
}

function overlap(top, reference) {
  const shared = top.filter((row) => reference.includes(row)).length;
  return `${shared}/${reference.length}`;
}

function isSoftwareGpu(gpu) {
  return Boolean(gpu?.webgpu?.fallback || /swiftshader|llvmpipe|software/iu.test(String(gpu?.webgl ?? '')));
}
