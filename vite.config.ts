import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Plugin } from 'vite';
import { defineConfig, type ViteUserConfig as UserConfig } from 'vitest/config';
import { MODEL_KERNELS } from './src/ml/model-kernels.js';

/**
 * Two browser builds, both into dist/ next to the npm package (dist/npm, built by tsc):
 * - `vite build` — the tracker `dist/omnipersona.js`, the classic script a shop's pages load;
 * - `vite build --mode lazy` — the ES modules the tracker imports from its own URL: the app module
 *   `dist/omnipersona-app.js` (capture, cleaning, storage, widgets), the ML module
 *   `dist/omnipersona-ml.js`, one chunk per TF.js backend under `dist/ml/`, shared code under
 *   `dist/chunks/`, and the WASM binaries under `dist/wasm/`.
 * Vitest reads the `test` block.
 */
export default defineConfig(({ mode }): UserConfig => (mode === 'lazy' ? lazyBuild() : tagBuild()));

/** CI collects machine-readable reports here for its closing summary line. */
const reportDir = process.env.OMNIPERSONA_REPORT_DIR;
/** A PostgreSQL server (an admin URL) for the server suite's second run. */
const postgresUrl = process.env.OMNIPERSONA_TEST_POSTGRES_URL;

const common: UserConfig = {
  publicDir: false,
  build: { outDir: 'dist', emptyOutDir: false, target: 'es2022', sourcemap: true, minify: true },
};

function tagBuild(): UserConfig {
  return {
    ...common,
    build: {
      ...common.build,
      lib: {
        entry: 'src/tag/index.ts',
        formats: ['iife'],
        name: 'omnipersonaLoader',
        fileName: () => 'omnipersona.js',
      },
    },
    test: {
      environment: 'node',
      reporters: reportDir ? ['default', ['json', { outputFile: `${reportDir}/unit.json` }]] : ['default'],
      testTimeout: 60_000,
      hookTimeout: 60_000,
      projects: [
        {
          extends: true,
          test: {
            name: 'unit',
            include: ['test/unit/**/*.test.ts', 'test/server/**/*.test.ts', 'test/arch/**/*.test.ts'],
          },
        },
        // The server suite again, on a PostgreSQL server instead of the embedded database, where one
        // is given (.ci/run starts one): test/server/test-database.ts.
        ...(postgresUrl
          ? [
              {
                extends: true as const,
                test: {
                  name: 'server-postgres',
                  include: ['test/server/**/*.test.ts'],
                  env: { OMNIPERSONA_TEST_STORE: 'postgres', OMNIPERSONA_TEST_POSTGRES_URL: postgresUrl },
                },
              },
            ]
          : []),
      ],
    },
  };
}

function lazyBuild(): UserConfig {
  return {
    ...common,
    // Chunks load relative to the importing module's own URL, wherever the shop hosts them.
    base: './',
    plugins: [wasmBinaries(), modelKernelsOnly()],
    // The model's Web Worker is its own module graph: TF.js and its backends again, under `worker/`.
    worker: {
      format: 'es',
      plugins: () => [modelKernelsOnly()],
      rolldownOptions: {
        output: {
          entryFileNames: 'worker/[name]-[hash].js',
          chunkFileNames: workerChunkName,
          minify: true,
          comments: false,
        },
      },
    },
    build: {
      ...common.build,
      modulePreload: false,
      // Not library mode: that leaves ES output unminified, and these modules are served to shoppers.
      rollupOptions: {
        input: { 'omnipersona-app': 'src/tag/app.ts', 'omnipersona-ml': 'src/ml/index.ts' },
        preserveEntrySignatures: 'strict',
        output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: chunkName },
      },
    },
  };
}

/**
 * Names a TF.js chunk after the package it holds (`ml/tfjs-backend-webgl-<hash>.js`), so sizes read
 * plainly; code the app and ML modules share goes under `chunks/`.
 */
function chunkName(chunk: { name: string; facadeModuleId: string | null; moduleIds: readonly string[] }): string {
  const packageOf = (id: string) => /node_modules\/(?:@[^/]+\/)?([^/]+)\//u.exec(id)?.[1];
  if (!chunk.moduleIds.some((id) => packageOf(id)?.startsWith('tfjs-') || id.startsWith(TRIMMED_BACKEND))) {
    return `chunks/${chunk.name === 'rolldown-runtime' ? chunk.name : 'shared'}-[hash].js`;
  }
  const facadeId = chunk.facadeModuleId ?? '';
  const facade = facadeId.startsWith(TRIMMED_BACKEND)
    ? `tfjs-backend-${facadeId.slice(TRIMMED_BACKEND.length)}`
    : packageOf(facadeId);
  const packages = new Set(chunk.moduleIds.map(packageOf));
  const only = packages.size === 1 ? [...packages][0] : undefined;
  return `ml/${facade ?? (chunk.name === 'dist' ? only : undefined) ?? chunk.name}-[hash].js`;
}

function workerChunkName(chunk: { name: string; facadeModuleId: string | null; moduleIds: readonly string[] }): string {
  return chunkName(chunk).replace(/^(?:ml|chunks)\//u, 'worker/');
}

/** The id of a trimmed backend module, followed by the backend's name. */
const TRIMMED_BACKEND = '\0omnipersona-tfjs-backend:';

/**
 * Replaces each TF.js backend package with its kernel-free base plus the kernels the model runs
 * ({@link MODEL_KERNELS}), instead of the hundreds the package registers. Only the browser bundles
 * are trimmed; Node (tests, evaluation, the server) imports the whole packages.
 */
function modelKernelsOnly(): Plugin {
  const prefix = TRIMMED_BACKEND;
  return {
    name: 'omnipersona-model-kernels-only',
    enforce: 'pre',
    resolveId(source) {
      const backend = /^@tensorflow\/tfjs-backend-(webgpu|webgl|wasm|cpu)$/u.exec(source)?.[1];
      return backend ? `${prefix}${backend}` : undefined;
    },
    load(id) {
      if (!id.startsWith(prefix)) return undefined;
      const pkg = `@tensorflow/tfjs-backend-${id.slice(prefix.length)}/dist`;
      // Each kernel's file exports its config as `<kernelName, first letter lower-cased>Config`.
      const configs = MODEL_KERNELS.map((name) => `${name[0]?.toLowerCase()}${name.slice(1)}Config`);
      return [
        `export * from '${pkg}/base.js';`,
        `import { registerKernel } from '@tensorflow/tfjs-core';`,
        ...MODEL_KERNELS.map((name, i) => `import { ${configs[i]} } from '${pkg}/kernels/${name}.js';`),
        `for (const config of [${configs.join(', ')}]) registerKernel(config);`,
      ].join('\n');
    },
  };
}

/** Emits TF.js' WASM binaries under their own names, where `setWasmPaths(<base>/wasm/)` finds them. */
function wasmBinaries(): Plugin {
  const require = createRequire(import.meta.url);
  const dir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  return {
    name: 'omnipersona-wasm-binaries',
    generateBundle() {
      for (const file of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm']) {
        this.emitFile({ type: 'asset', fileName: `wasm/${file}`, source: readFileSync(join(dir, 'dist', file)) });
      }
    },
  };
}
