/** The binaries of `@tensorflow/tfjs-backend-wasm`. The threaded one is never loaded: threads are off. */
export type WasmBinaryName =
  | 'tfjs-backend-wasm.wasm'
  | 'tfjs-backend-wasm-simd.wasm'
  | 'tfjs-backend-wasm-threaded-simd.wasm';

/**
 * Where the WASM backend finds its binaries: a folder prefix ending in `/` (a URL in a browser, a
 * path in Node), or one URL per binary, as a bundler's asset imports give them.
 */
export type WasmPaths = string | Partial<Record<WasmBinaryName, string>>;

/**
 * The argument for `setWasmPaths`. A file map must name all three binaries there, so a missing
 * threaded one borrows the SIMD URL: with threads off (see select-backend.ts) it is never fetched.
 */
export function wasmPathsArgument(paths: WasmPaths): string | Record<WasmBinaryName, string> {
  if (typeof paths === 'string') return paths;
  const plain = paths['tfjs-backend-wasm.wasm'];
  const simd = paths['tfjs-backend-wasm-simd.wasm'];
  if (plain === undefined || simd === undefined) {
    throw new Error('wasmPaths should give URLs for tfjs-backend-wasm.wasm and tfjs-backend-wasm-simd.wasm');
  }
  return {
    'tfjs-backend-wasm.wasm': plain,
    'tfjs-backend-wasm-simd.wasm': simd,
    'tfjs-backend-wasm-threaded-simd.wasm': paths['tfjs-backend-wasm-threaded-simd.wasm'] ?? simd,
  };
}

/**
 * In Node, the folder of the installed `@tensorflow/tfjs-backend-wasm` (its `dist/`, where the
 * binaries lie next to the entry file); elsewhere undefined, and TF.js' own default applies.
 *
 * `node:module` is imported through a variable so that browser bundlers neither resolve nor stub it:
 * this code path only runs where `process.versions.node` exists.
 */
export async function nodeWasmFolder(): Promise<string | undefined> {
  const runtime = globalThis as { process?: { versions?: { node?: string } } };
  if (typeof runtime.process?.versions?.node !== 'string') return undefined;
  try {
    const specifier = 'node:module';
    const { createRequire } = (await import(/* @vite-ignore */ specifier)) as typeof import('node:module');
    const entry = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
    return entry.replace(/[^/\\]+$/u, '');
  } catch {
    return undefined;
  }
}
