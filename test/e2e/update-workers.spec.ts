import { expect, test } from '@playwright/test';
import { seededRandom } from '../../src/core/random.js';
import { factorWeights } from '../../src/core/sync/low-rank.js';
import { decodeTensors } from '../../src/core/sync/tensor-codec.js';
import { checkUpdateBytes, sumUpdates } from '../../src/server/update-processing.js';
import { filledWeights, getManifest, getWeights, makeItems, postUpdate, quiet, updateBody } from '../server/helpers.js';

/*
 * The sync server's update workers, in Node against the built package: a worker thread runs the
 * compiled update-worker.js, which the unit tests (on the TypeScript sources) cannot start. No browser.
 */

// Through variables, so that type checking, which runs before the build, does not need dist/npm.
const WORKERS: string = new URL('../../dist/npm/server/update-workers.js', import.meta.url).href;
const SERVER: string = new URL('../../dist/npm/server/index.js', import.meta.url).href;
type WorkersModule = typeof import('../../src/server/update-workers.js');
type ServerModule = typeof import('../../src/server/index.js');

const config = { items: 60, categories: 3, brands: 2, dim: 8 };
const check = { expected: { version: 1, config }, maxBytes: 1 << 20, maxNorm: 10 };

/** A device's low-rank int8 update of `config`'s shapes, based on `version`. */
function lowRankUpdate(seed: number, size: number, shape = config, version = 1): Uint8Array {
  const random = seededRandom(seed);
  const delta = filledWeights(shape, () => size * (random() - 0.5));
  return updateBody(factorWeights(delta, { rank: 2, random }), version, 1 + (seed % 4), 'low-rank', 'I8');
}

test('a pool of workers checks and sums updates as the server’s own thread does', async () => {
  const { UpdateWorkerPool } = (await import(WORKERS)) as WorkersModule;
  const errors: Error[] = [];
  const pool = UpdateWorkerPool.create(2, (error) => errors.push(error));
  expect(pool).toBeInstanceOf(UpdateWorkerPool);
  try {
    for (const size of [0.1, 30]) {
      const bytes = lowRankUpdate(3, size);
      const expected = checkUpdateBytes(bytes, check);
      // The pool takes over the bytes it is given.
      const result = await pool.check(bytes.slice(), check);
      expect(result.header).toEqual(expected.header);
      expect(result.checked?.norm).toBeCloseTo(expected.checked?.norm as number, 6);
      expect(
        Buffer.from(result.checked?.encoded as Uint8Array).equals(Buffer.from(expected.checked?.encoded as Uint8Array)),
      ).toBe(true);
    }
    const misfit = lowRankUpdate(4, 0.1, { ...config, items: 61 });
    await expect(pool.check(misfit, check)).rejects.toMatchObject({
      code: 'INVALID_PAYLOAD',
      message: expect.stringMatching(/does not fit model 1/u),
    });
    // Checks asked in one turn go in one message; each settles on its own.
    const together = await Promise.allSettled([
      pool.check(lowRankUpdate(6, 0.1), check),
      pool.check(lowRankUpdate(7, 0.1, { ...config, items: 61 }), check),
      pool.check(lowRankUpdate(8, 30), check),
    ]);
    expect(together.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(together[2]).toMatchObject({
      value: { checked: { norm: checkUpdateBytes(lowRankUpdate(8, 30), check).checked?.norm } },
    });
    // An update based on another version is checked when it has the expected shape, and comes
    // back with its bytes, unchecked, when it has another.
    await expect(pool.check(lowRankUpdate(11, 0.1, config, 2), check)).resolves.toMatchObject({
      header: { baseVersion: 2 },
      checked: { norm: expect.any(Number) },
    });
    const body = lowRankUpdate(10, 0.1, { ...config, items: 61 }, 2);
    const sent = body.slice();
    const other = await pool.check(body, check);
    expect(other.header.baseVersion).toBe(2);
    expect(other.checked).toBeUndefined();
    expect(Buffer.from(other.bytes as Uint8Array).equals(Buffer.from(sent))).toBe(true);
    // Bytes whose buffer has moved elsewhere cannot be posted: that check fails alone, in the same
    // turn as others that go through, and the pool goes on.
    const moved = lowRankUpdate(9, 0.1);
    structuredClone(moved.buffer, { transfer: [moved.buffer] });
    const beside = await Promise.allSettled([
      pool.check(lowRankUpdate(9, 0.1), check),
      pool.check(moved, check),
      pool.check(lowRankUpdate(12, 0.1), check),
    ]);
    expect(beside.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(beside[1]).toMatchObject({ reason: { code: 'INTERNAL' } });
    await expect(pool.check(lowRankUpdate(9, 0.1), check)).resolves.toMatchObject({
      checked: { norm: expect.any(Number) },
    });

    // Enough parts for a job on each of the two sum workers, some clipped as DP-FedAvg counts them;
    // the last is a view into a buffer that holds other bytes too, as a row of a query's result is.
    const parts = Array.from({ length: 40 }, (_, i) => ({
      encoded: lowRankUpdate(10 + i, 0.5),
      weight: 1 + (i % 3),
      ...(i % 2 === 0 ? { clipNorm: 0.2 } : {}),
    }));
    const row = lowRankUpdate(50, 0.5);
    const shared = new Uint8Array(row.length + 16);
    shared.set(row, 8);
    parts.push({ encoded: shared.subarray(8, 8 + row.length), weight: 2 });
    const expected = sumUpdates(config, parts);
    const sum = await pool.sum(config, parts);
    expect({ count: sum.count, weight: sum.weight }).toEqual({ count: expected.count, weight: expected.weight });
    expect(largestDifference(sum.sums, expected.sums)).toBeLessThan(1e-4);
    // The pool takes over the parts' own buffers; the view's is copied and left as it was.
    expect(parts[0]?.encoded.byteLength).toBe(0);
    expect(decodeTensors(parts[40]?.encoded as Uint8Array).metadata['omnipersona.kind']).toBe('low-rank');
  } finally {
    await pool.close();
  }
  await expect(pool.check(lowRankUpdate(5, 0.1), check)).rejects.toMatchObject({ code: 'INTERNAL' });
  expect(errors).toEqual([]);
});

test('a server with update workers aggregates a round over HTTP to the weights of one without', async () => {
  const { createSyncServer } = (await import(SERVER)) as ServerModule;
  const versions: Array<Awaited<ReturnType<typeof getWeights>>['tensors']> = [];
  for (const updateWorkers of [2, 0]) {
    const server = await createSyncServer({
      dataDir: 'memory://',
      roundSize: 6,
      serverOptimizer: 'mean',
      updateWorkers,
      logger: quiet,
    });
    try {
      await server.importCatalog(makeItems(40));
      const { url } = await server.listen({ port: 0 });
      const manifest = await getManifest(url);
      const bodies = Array.from({ length: 6 }, (_, i) => lowRankUpdate(20 + i, i === 0 ? 40 : 0.3, manifest.config));
      const answers = await Promise.all(bodies.map((body) => postUpdate(url, body)));
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200, 200]);
      const refused = await postUpdate(url, lowRankUpdate(30, 0.1, { ...manifest.config, items: 3 }));
      expect(refused.status).toBe(400);
      const next = await getManifest(url);
      expect(next.version).toBe(2);
      versions.push((await getWeights(url, next)).tensors);
    } finally {
      await server.close();
    }
  }
  const [pooled, inline] = versions;
  expect(largestDifference(pooled ?? {}, inline ?? {})).toBeLessThan(1e-5);
});

/** The largest difference between two weight sets' values, one expectation rather than thousands. */
function largestDifference(a: Record<string, { data: Float32Array }>, b: typeof a): number {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  let largest = 0;
  for (const [name, tensor] of Object.entries(b)) {
    const values = a[name]?.data as Float32Array;
    expect(values).toHaveLength(tensor.data.length);
    tensor.data.forEach((value, i) => {
      largest = Math.max(largest, Math.abs((values[i] as number) - value));
    });
  }
  return largest;
}
