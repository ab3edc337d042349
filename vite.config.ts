import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Plugin } from 'vite';
import { defineConfig, type ViteUserConfig as UserConfig } from 'vitest/config';

/**
 * Two browser builds, both into dist/ next to the npm package (dist/npm, built by tsc):
 * - `vite build` — the script-tag loader `dist/omnipersona.js`, a classic script with no TF.js in it;
 * - `vite build --mode ml` — the lazily loaded ML chunk `dist/omnipersona-ml.js` (an ES module), one
 *   chunk per TF.js backend under `dist/ml/`, and the WASM binaries under `dist/wasm/`.
 * Vitest reads the `test` block.
 */
export default defineConfig(({ mode }): UserConfig => (mode === 'ml' ? mlBuild() : tagBuild()));

/** CI collects machine-readable reports here for its closing summary line. */
const reportDir = process.env.OMNIPERSONA_REPORT_DIR;

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
      include: ['test/unit/**/*.test.ts', 'test/server/**/*.test.ts', 'test/arch/**/*.test.ts'],
      environment: 'node',
      reporters: reportDir ? ['default', ['json', { outputFile: `${reportDir}/unit.json` }]] : ['default'],
      testTimeout: 60_000,
      hookTimeout: 60_000,
    },
  };
}

function mlBuild(): UserConfig {
  return {
    ...common,
    // Chunks load relative to the ML entry's own URL, wherever the shop hosts it.
    base: './',
    plugins: [wasmBinaries()],
    build: {
      ...common.build,
      modulePreload: false,
      // Not library mode: that leaves ES output unminified, and this chunk is served to shoppers.
      rollupOptions: {
        input: { 'omnipersona-ml': 'src/ml/index.ts' },
        preserveEntrySignatures: 'strict',
        output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: chunkName },
      },
    },
  };
}

/** Names a chunk after the package it holds (`ml/tfjs-backend-webgl-<hash>.js`), so sizes read plainly. */
function chunkName(chunk: { name: string; facadeModuleId: string | null; moduleIds: readonly string[] }): string {
  const packageOf = (id: string) => /node_modules\/(?:@[^/]+\/)?([^/]+)\//u.exec(id)?.[1];
  const facade = chunk.facadeModuleId ? packageOf(chunk.facadeModuleId) : undefined;
  const packages = new Set(chunk.moduleIds.map(packageOf));
  const only = packages.size === 1 ? [...packages][0] : undefined;
  return `ml/${facade ?? (chunk.name === 'dist' ? only : undefined) ?? chunk.name}-[hash].js`;
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
