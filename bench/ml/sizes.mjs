import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

/** The TF.js backends, by the name their chunk carries (`tfjs-backend-<name>-<hash>.js`). */
const BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'];
/** The sets the goal is about: the three fast backends, then with the CPU fallback too. */
const GOAL_SETS = [
  ['webgpu', 'webgl', 'wasm'],
  ['webgpu', 'webgl', 'wasm', 'cpu'],
];

const STATIC_IMPORT = /(?:\bfrom|\bimport)\s*(["'`])(\.{1,2}\/[^"'`]+?\.js)\1/gu;
const DYNAMIC_IMPORT = /\bimport\(\s*(["'`])(\.{1,2}\/[^"'`]+?\.js)\1\s*\)/gu;
/** `new Worker(new URL('…', import.meta.url))`, as Vite leaves it: the worker's entry. */
const URL_REFERENCE = /new URL\(\s*(["'`])([^"'`]+?\.js)\1\s*,\s*import\.meta\.url/gu;

/**
 * The gzipped size of the ML module as a page loads it, worked out from the built files' own
 * imports (no browser needed): what a page whose model runs in the worker fetches
 * (`omnipersona-ml.js` and its static imports, the worker's entry and its static imports, and each
 * backend chunk with its static imports), and what a page without a worker fetches (the `ml/`
 * copies). Files the app module already loaded (its shared chunks) are listed apart: the shopper
 * has them before the model loads.
 *
 * @param {string} dist the built `dist/` folder
 */
export function measureMlSizes(dist) {
  const graph = new ImportGraph(dist);
  const entry = 'omnipersona-ml.js';
  const app = graph.staticClosure(['omnipersona-app.js']);
  const worker = graph.references(entry).find((file) => /model-worker[^/]*\.js$/u.test(file));
  if (!worker) throw new Error(`${entry} names no model worker: cannot size the worker's files`);
  const workerBackends = backendChunks(graph, worker);
  // Without a worker, the entry imports the main-thread runtime when it falls back, and that the backends.
  const mainRuntime = graph.dynamicImports(entry).find((file) => /create-model-runtime[^/]*\.js$/u.test(file));
  const pageBackends = backendChunks(graph, mainRuntime ?? entry);

  const sets = [];
  const add = (where, names, roots) => {
    const files = graph.staticClosure(roots);
    const own = files.filter((file) => !app.includes(file));
    const shared = files.filter((file) => app.includes(file));
    sets.push({
      where,
      backends: names,
      files: own.map((file) => graph.size(file)),
      gzipBytes: sumGzip(graph, own),
      bytes: own.reduce((total, file) => total + graph.size(file).bytes, 0),
      sharedWithApp: shared.map((file) => graph.size(file)),
    });
  };
  for (const names of [...GOAL_SETS, ...BACKENDS.map((name) => [name])]) {
    add('worker', names, [entry, worker, ...names.map((name) => workerBackends[name])].filter(Boolean));
  }
  for (const names of GOAL_SETS) {
    add('main thread', names, [entry, mainRuntime, ...names.map((name) => pageBackends[name])].filter(Boolean));
  }
  const wasmBinaries = ['wasm/tfjs-backend-wasm-simd.wasm', 'wasm/tfjs-backend-wasm.wasm']
    .filter((file) => existsSync(join(dist, file)))
    .map((file) => graph.size(file));
  return {
    entry,
    worker,
    missingBackends: BACKENDS.filter((name) => !workerBackends[name]),
    sets,
    wasmBinaries,
  };
}

/** The backend chunks `file` imports dynamically, by backend name. */
function backendChunks(graph, file) {
  const chunks = {};
  for (const chunk of graph.dynamicImports(file)) {
    const name = /tfjs-backend-([a-z]+)-[^/]*\.js$/u.exec(chunk)?.[1];
    if (name && BACKENDS.includes(name)) chunks[name] = chunk;
  }
  return chunks;
}

const sumGzip = (graph, files) => files.reduce((total, file) => total + graph.size(file).gzip, 0);

/** The built files' imports, read from their text (paths relative to `dist`). */
class ImportGraph {
  #dist;
  #parsed = new Map();
  #sizes = new Map();

  constructor(dist) {
    this.#dist = dist;
  }

  staticClosure(roots) {
    const seen = new Set();
    const visit = (file) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const next of this.#parse(file).static) visit(next);
    };
    for (const root of roots) visit(root);
    return [...seen].sort();
  }

  dynamicImports(file) {
    return this.#parse(file).dynamic;
  }

  references(file) {
    return this.#parse(file).references;
  }

  /** Raw and gzip -9 bytes of one file, as served (each file is its own response). */
  size(file) {
    if (!this.#sizes.has(file)) {
      const content = readFileSync(join(this.#dist, file));
      this.#sizes.set(file, { file, bytes: content.length, gzip: gzipSync(content, { level: 9 }).length });
    }
    return this.#sizes.get(file);
  }

  #parse(file) {
    if (!this.#parsed.has(file)) {
      const path = join(this.#dist, file);
      if (!existsSync(path)) throw new Error(`A built file imports ${file}, which is not in ${this.#dist}`);
      const text = readFileSync(path, 'utf8');
      const from = (pattern) => [...text.matchAll(pattern)].map((match) => this.#resolve(file, match[2]));
      this.#parsed.set(file, {
        static: from(STATIC_IMPORT),
        dynamic: from(DYNAMIC_IMPORT),
        references: from(URL_REFERENCE),
      });
    }
    return this.#parsed.get(file);
  }

  #resolve(file, specifier) {
    return relative(this.#dist, resolve(this.#dist, dirname(file), specifier))
      .split('\\')
      .join('/');
  }
}
