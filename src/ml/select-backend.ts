import * as tf from '@tensorflow/tfjs-core';
import { OmniPersonaError } from '../core/errors.js';
import type { BackendName, BackendPreference } from '../core/model/model-runtime.js';
import { withTimeout } from '../core/with-timeout.js';
import { webGlProblem, webGpuProblem } from './backend-probes.js';
import { nodeWasmFolder, type WasmPaths, wasmPathsArgument } from './wasm-paths.js';

/** Fastest first, on real hardware. GPU backends running in software come after WASM, so 'auto' skips them. */
export const BACKEND_ORDER: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

/** What {@link selectBackend} tries, and how long it waits for each backend. */
export interface SelectBackendOptions {
  preference: BackendPreference;
  /** Where the WASM binaries are; in Node the installed package's folder when omitted. */
  wasmPaths?: WasmPaths;
  /** Limit for loading, initialising and checking one backend. */
  initTimeoutMs: number;
  /** Backends that failed earlier in this page: never tried again. */
  exclude?: ReadonlySet<BackendName>;
}

/** The backend now active in TF.js. */
export interface BackendSelection {
  backend: BackendName;
  /** Backends tried or passed over before it, and why. */
  skipped: { backend: BackendName; problem: string }[];
}

/**
 * Makes the first backend that works the active TF.js backend. A forced preference is tried first,
 * even in software; then, and for 'auto', the {@link BACKEND_ORDER}, GPU backends only on hardware.
 * A backend works when it initialises within the time limit and multiplies two matrices correctly.
 * Each backend package is imported only when tried, so a bundle splits them and a page downloads
 * only what it uses. A backend that fails is removed from TF.js so that nothing falls back onto it.
 *
 * @throws OmniPersonaError `BACKEND_UNAVAILABLE` when none works, naming each one's problem.
 */
export function selectBackend(options: SelectBackendOptions): Promise<BackendSelection> {
  // One selection at a time: TF.js has one active backend, and two selections would switch it under each other.
  const selection = selecting.then(() => select(options));
  selecting = selection.catch(() => undefined);
  return selection;
}

let selecting: Promise<unknown> = Promise.resolve();

async function select(options: SelectBackendOptions): Promise<BackendSelection> {
  const { preference, exclude = new Set() } = options;
  const order = preference === 'auto' ? BACKEND_ORDER : [preference, ...BACKEND_ORDER.filter((b) => b !== preference)];
  const skipped: BackendSelection['skipped'] = [];
  for (const backend of order.filter((name) => !exclude.has(name))) {
    try {
      const work = initialise(backend, backend === preference, options.wasmPaths);
      await withTimeout(
        work,
        options.initTimeoutMs,
        () => new Error(`the ${backend} backend did not start within ${options.initTimeoutMs} ms`),
      );
      return { backend, skipped };
    } catch (error) {
      skipped.push({ backend, problem: error instanceof Error ? error.message : String(error) });
      forgetBackend(backend);
    }
  }
  const problems = skipped.map(({ backend, problem }) => `${backend}: ${problem}`).join('; ');
  throw new OmniPersonaError('BACKEND_UNAVAILABLE', `No TF.js backend works here (${problems})`);
}

/** Makes `backend` the active one again (another runtime in the page may have switched it). */
export async function activateBackend(backend: BackendName): Promise<void> {
  if (tf.getBackend() === backend) return;
  if (!(await tf.setBackend(backend))) throw new Error(`The ${backend} backend is no longer available`);
}

/** Removes a backend that failed, ignoring errors: a lost GPU device can fail even its disposal. */
export function forgetBackend(backend: BackendName): void {
  try {
    if (tf.findBackendFactory(backend)) tf.removeBackend(backend);
  } catch {
    // Already gone or broken beyond disposal: either way it is out of TF.js' registry.
  }
}

/**
 * Calls `onLost` when the active GPU backend loses its device: a lost WebGPU device or a lost WebGL
 * context (driver reset, GPU process crash, too many contexts). Tensors on it are gone by then.
 */
export function watchDeviceLoss(backend: BackendName, onLost: () => void): void {
  const active = tf.backend() as unknown as {
    device?: { lost?: Promise<unknown> };
    gpgpu?: { gl?: { canvas?: { addEventListener?(type: string, listener: () => void): void } } };
  };
  if (backend === 'webgpu') active.device?.lost?.then(onLost, () => undefined);
  if (backend === 'webgl') active.gpgpu?.gl?.canvas?.addEventListener?.('webglcontextlost', onLost);
}

async function initialise(backend: BackendName, forced: boolean, wasmPaths: WasmPaths | undefined): Promise<void> {
  const problem = forced ? undefined : await hardwareProblem(backend);
  if (problem) throw new Error(problem);
  await loadBackend(backend, wasmPaths);
  if (!(await tf.setBackend(backend))) throw new Error('tf.setBackend returned false');
  await checkMatMul();
}

async function hardwareProblem(backend: BackendName): Promise<string | undefined> {
  if (backend === 'webgpu') return webGpuProblem();
  if (backend === 'webgl') return webGlProblem();
  return undefined;
}

/** Imports the backend package, which registers it with TF.js. */
async function loadBackend(backend: BackendName, wasmPaths: WasmPaths | undefined): Promise<void> {
  if (backend === 'webgpu') await import('@tensorflow/tfjs-backend-webgpu');
  else if (backend === 'webgl') await import('@tensorflow/tfjs-backend-webgl');
  else if (backend === 'cpu') await import('@tensorflow/tfjs-backend-cpu');
  else {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // The threaded build hung under a minified bundle on cross-origin-isolated pages (PITFALLS.md);
    // the flag exists once the package is imported.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    const paths = wasmPaths ?? (await nodeWasmFolder());
    // Paths only matter before the first initialisation; setting them after a failed one throws.
    if (paths !== undefined && !('wasm' in tf.engine().registry)) wasm.setWasmPaths(wasmPathsArgument(paths));
  }
}

async function checkMatMul(): Promise<void> {
  const product = tf.tidy(() => tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2])));
  try {
    const values = Array.from(await product.data());
    const expected = [19, 22, 43, 50];
    if (!expected.every((value, i) => Math.abs((values[i] ?? Number.NaN) - value) < 1e-3)) {
      throw new Error(`a test matMul gave [${values}], expected [${expected}]`);
    }
  } finally {
    product.dispose();
  }
}
