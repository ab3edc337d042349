import { existsSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { OmniPersonaError } from '../../../src/core/errors.js';
import { createModelRuntime } from '../../../src/ml/index.js';
import { selectBackend } from '../../../src/ml/select-backend.js';
import { nodeWasmFolder, wasmPathsArgument } from '../../../src/ml/wasm-paths.js';

describe('backend selection in Node', () => {
  test("'auto' passes over the GPU backends and picks wasm", async () => {
    const selection = await selectBackend({ preference: 'auto', initTimeoutMs: 10_000 });
    expect(selection.backend).toBe('wasm');
    expect(selection.skipped).toEqual([
      { backend: 'webgpu', problem: 'navigator.gpu is missing' },
      { backend: 'webgl', problem: 'no canvas to draw WebGL on' },
    ]);
    expect((await createModelRuntime()).backend).toBe('wasm');
  });

  test('a forced backend comes first; an unavailable one falls back in order', async () => {
    expect((await createModelRuntime({ backend: 'cpu' })).backend).toBe('cpu');
    const selection = await selectBackend({ preference: 'webgpu', initTimeoutMs: 10_000 });
    expect(selection.backend).toBe('wasm');
    expect(selection.skipped.map((skip) => skip.backend)).toEqual(['webgpu', 'webgl']);
    expect(selection.skipped[0]?.problem).toMatch(/setBackend returned false|gpu/iu);
  });

  test('rejects bad options', async () => {
    for (const options of [{ backend: 'tpu' as 'cpu' }, { initTimeoutMs: 0 }]) {
      const error = await createModelRuntime(options).catch((e) => e);
      expect(error).toBeInstanceOf(OmniPersonaError);
      expect(error.code).toBe('INVALID_OPTIONS');
    }
  });
});

describe('WASM binary paths', () => {
  test('in Node default to the installed package folder, which holds the binaries', async () => {
    const folder = await nodeWasmFolder();
    expect(folder).toMatch(/@tensorflow[/\\]tfjs-backend-wasm[/\\]dist[/\\]$/u);
    expect(existsSync(`${folder}tfjs-backend-wasm-simd.wasm`)).toBe(true);
  });

  test('a file map needs the plain and SIMD binaries and never loads the threaded one', () => {
    expect(
      wasmPathsArgument({ 'tfjs-backend-wasm.wasm': '/a.wasm', 'tfjs-backend-wasm-simd.wasm': '/b.wasm' }),
    ).toEqual({
      'tfjs-backend-wasm.wasm': '/a.wasm',
      'tfjs-backend-wasm-simd.wasm': '/b.wasm',
      'tfjs-backend-wasm-threaded-simd.wasm': '/b.wasm',
    });
    expect(() => wasmPathsArgument({ 'tfjs-backend-wasm.wasm': '/a.wasm' })).toThrow(/simd/u);
    expect(wasmPathsArgument('/assets/')).toBe('/assets/');
  });
});
