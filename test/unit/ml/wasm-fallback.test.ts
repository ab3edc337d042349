import { expect, test } from 'vitest';
import { createModelRuntime } from '../../../src/ml/index.js';

// Its own file: a failed WASM start cannot be undone in a process.
test('wasmPaths is where the binaries are fetched from; when they are missing, cpu takes over', async () => {
  const runtime = await createModelRuntime({ backend: 'wasm', wasmPaths: '/nonexistent/', initTimeoutMs: 5000 });
  expect(runtime.backend).toBe('cpu');
});
