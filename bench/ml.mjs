#!/usr/bin/env node
// ML benchmark: top-10 inference at 1k/10k/100k items, a training step, a fine-tune on 100 new
// events and the page's long tasks while the model trains, per TF.js backend, in the model's Web
// Worker and on the main thread; and the gzipped size of the ML module as a page loads it.
// Measures the built files in OMNIPERSONA_DIST (default dist/, made by `npm run build`).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FINE_TUNE, ITEMS, MODEL, measureBackend, TRAIN_EXAMPLES } from './ml/measure.mjs';
import { goals, methodNotes, printMlReport } from './ml/report.mjs';
import { measureMlSizes } from './ml/sizes.mjs';
import { launchChromium } from './tracking/browser.mjs';
import { startBenchServer } from './tracking/server.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
/** Fastest here first, so that the figures that matter most come before the slow software GPU ones. */
const BACKENDS = ['wasm', 'webgl', 'webgpu', 'cpu'];
const MODES = ['worker', 'main thread'];
/** The model spec's tsc output, which the bench page imports (under /sdk/) to build weights and histories. */
const SPEC = 'npm/core/model/model-spec.js';

/**
 * Runs the ML benchmark, prints its tables and writes `bench/results/ml.json`.
 * OMNIPERSONA_ML_BACKENDS (comma-separated) limits the backends measured.
 * @param {{ dist?: string, results?: string }} [options]
 */
export async function runMlBench({
  dist = process.env.OMNIPERSONA_DIST || join(root, 'dist'),
  results = join(root, 'bench', 'results'),
} = {}) {
  if (!existsSync(join(dist, 'omnipersona-ml.js'))) {
    throw new Error(`No omnipersona-ml.js in ${dist}: run \`npm run build\` first, or set OMNIPERSONA_DIST.`);
  }
  // The page builds its weights and signal rows from the built spec (see bench/ml/pages/bench.js).
  if (!existsSync(join(dist, SPEC))) {
    throw new Error(`No ${SPEC} in ${dist}: run \`npm run build\` first, or set OMNIPERSONA_DIST.`);
  }
  const startedAt = Date.now();
  const backends = process.env.OMNIPERSONA_ML_BACKENDS?.split(',').map((name) => name.trim()) ?? BACKENDS;
  const sizes = measureMlSizes(dist);
  const server = await startBenchServer({ dist, pages: fileURLToPath(new URL('ml/pages/', import.meta.url)) });
  const runs = [];
  let chromium;
  try {
    for (const backend of backends) {
      // A browser of its own per backend: the GPU process and its compiled shaders start fresh.
      const browser = await launchChromium({ args: ['--enable-unsafe-webgpu'] });
      chromium = browser.version();
      try {
        let reference;
        for (const mode of MODES) {
          const run = await measureBackend(browser, server, { backend, mode, reference, log: progress });
          reference ??= run;
          runs.push(run);
        }
      } finally {
        await browser.close();
      }
    }
  } finally {
    await server.close();
  }

  const result = {
    measuredAt: new Date().toISOString(),
    chromium,
    dist,
    durationSeconds: Math.round((Date.now() - startedAt) / 1000),
    model: { ...MODEL, items: ITEMS, trainExamples: TRAIN_EXAMPLES, fineTune: FINE_TUNE },
    gpu: runs.find((run) => run.gpu)?.gpu,
    runs,
    sizes,
    checks: checks(runs, sizes),
  };
  result.goals = goals(result);
  result.method = methodNotes(result);
  result.valid = result.checks.every((check) => check.ok);

  printMlReport(result);
  mkdirSync(results, { recursive: true });
  writeFileSync(join(results, 'ml.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`JSON: ${join('bench', 'results', 'ml.json')}`);
  // A broken setup (a run that threw, a page error) is a failed run; slow figures are not.
  if (!result.valid) process.exitCode = 1;
  return result;
}

/** Setup checks: every run finished, the pages saw no errors, and the worker pages fetched what the size figures count. */
function checks(runs, sizes) {
  const list = [];
  for (const run of runs) {
    const name = `${run.backend} (${run.mode})`;
    list.push({ ok: !run.error, what: run.error ? `${name} broke: ${run.error}` : `${name} finished` });
    const errors = run.problems.filter((problem) => !problem.startsWith('warning'));
    if (errors.length > 0) list.push({ ok: false, what: `${name} page: ${errors.slice(0, 3).join('; ')}` });
    if (run.mode !== 'worker' || run.got !== run.backend) continue;
    const counted = sizes.sets.find((set) => set.where === 'worker' && set.backends.join() === run.backend);
    const expected = new Set([...counted.files, ...counted.sharedWithApp].map((file) => `/sdk/${file.file}`));
    const fetched = new Set(run.fetched.filter((file) => file.path.endsWith('.js')).map((file) => file.path));
    fetched.delete('/bench.js');
    // The page's own import of the model spec and its imports: the bench's, not the SDK's.
    for (const path of fetched) if (path.startsWith('/sdk/npm/')) fetched.delete(path);
    const missing = [...expected].filter((path) => !fetched.has(path));
    const extra = [...fetched].filter((path) => !expected.has(path));
    list.push({
      ok: missing.length === 0 && extra.length === 0,
      what:
        `${name}: the page fetched ${fetched.size} scripts, the size figure counts ${expected.size}` +
        (missing.length + extra.length > 0
          ? ` (not fetched: ${missing.join(', ')}; not counted: ${extra.join(', ')})`
          : ''),
    });
  }
  return list;
}

function progress(message) {
  console.error(`ml bench: ${message}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await runMlBench();
}
