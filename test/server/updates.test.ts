import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../src/core/model/model-spec.js';
import { type WeightSet, weightsNorm } from '../../src/core/model/weights.js';
import { type UpdateReceipt, UpdateReceiptSchema } from '../../src/core/sync/protocol.js';
import { createSyncServer, type SqlClient, type SyncServer } from '../../src/server/index.js';
import {
  expectError,
  filledWeights,
  getManifest,
  getWeights,
  makeItems,
  postUpdate,
  quiet,
  type Running,
  startServer,
  TEST_STORE,
  type TestDatabase,
  testDatabase,
  updateBody,
} from './helpers.js';

const MAX_NORM = 1;

async function receipt(response: Response): Promise<UpdateReceipt> {
  expect(response.status).toBe(200);
  return v.parse(UpdateReceiptSchema, await response.json());
}

describe('federated updates', () => {
  let running: Running;
  let url: string;
  let config: ModelConfig;
  beforeAll(async () => {
    running = await startServer({
      roundSize: 2,
      modelDim: 4,
      maxUpdateNorm: MAX_NORM,
      maxUpdateBytes: 4096,
      serverOptimizer: 'mean',
    });
    url = running.url;
    await running.server.importCatalog(makeItems(10));
    config = (await getManifest(url)).config;
  });
  afterAll(() => running.stop());

  it('holds the first update of a round and aggregates the weighted, clipped mean at the second', async () => {
    const base = await getManifest(url);
    const baseWeights = (await getWeights(url, base)).tensors;
    const small = filledWeights(config, (i) => Math.sin(i) / 100);
    const large = filledWeights(config, (i, name) => (name === 'item_bias' ? 3 : Math.cos(i)));
    expect(weightsNorm(small)).toBeLessThan(MAX_NORM);
    expect(weightsNorm(large)).toBeGreaterThan(MAX_NORM);

    const first = await receipt(await postUpdate(url, updateBody(small, base.version, 3)));
    expect(first).toEqual({ accepted: true, version: base.version, pending: 1, roundSize: 2 });
    expect((await getManifest(url)).version).toBe(base.version);

    const second = await receipt(await postUpdate(url, updateBody(large, base.version, 1)));
    expect(second).toEqual({ accepted: true, version: base.version + 1, pending: 0, roundSize: 2 });

    const next = await getManifest(url);
    expect(next).toMatchObject({ version: base.version + 1, updates: 2, config });
    const scale = MAX_NORM / weightsNorm(large);
    const served = (await getWeights(url, next)).tensors;
    for (const [name, tensor] of Object.entries(baseWeights)) {
      const got = served[name]?.data ?? new Float32Array();
      expect(got.length).toBe(tensor.data.length);
      tensor.data.forEach((value, i) => {
        const mean = (3 * (small[name]?.data[i] ?? 0) + scale * (large[name]?.data[i] ?? 0)) / 4;
        expect(got[i]).toBeCloseTo(value + mean, 6);
      });
    }
  });

  it('weighs an update by its examples only up to maxUpdateWeight, bounding one device’s pull on a round', async () => {
    const base = await getManifest(url);
    const baseWeights = (await getWeights(url, base)).tensors;
    const honest = filledWeights(config, () => 0);
    // A device claiming 10,000 examples, its update at the clip norm.
    const loud = filledWeights(config, (i) => (i % 2 === 0 ? 1 : -1));
    const scale = MAX_NORM / weightsNorm(loud);
    await receipt(await postUpdate(url, updateBody(honest, base.version, 20)));
    await receipt(await postUpdate(url, updateBody(loud, base.version, 10_000)));
    const served = (await getWeights(url, await getManifest(url))).tensors;
    // Weighed 100 against 20: the round moves 100/120 of the clipped update, not 10,000/10,020 of it.
    const moved = (served.item_bias?.data[0] ?? 0) - (baseWeights.item_bias?.data[0] ?? 0);
    const share = moved / (scale * (loud.item_bias?.data[0] ?? 0));
    expect(share).toBeCloseTo(100 / 120, 5);
  });

  it.each(['F32', 'I8'] as const)(
    'takes a low-rank update in %s as the product of its factors, clipped through them',
    async (dtype) => {
      const base = await getManifest(url);
      const baseWeights = (await getWeights(url, base)).tensors;
      const { items, dim } = config;
      // Values int8 carries exactly: u at scale 1/127, v at scale 2/127.
      const u = Float32Array.from({ length: items }, (_, i) => (i % 3) - 1);
      const v = Float32Array.from({ length: dim }, (_, j) => (j % 2 === 0 ? 2 : -2));
      const factored: WeightSet = { ...filledWeights(config, () => 0) };
      delete factored.item_embedding;
      factored['item_embedding.u'] = { shape: [items, 1], data: u };
      factored['item_embedding.v'] = { shape: [1, dim], data: v };
      const norm = Math.hypot(...u) * Math.hypot(...v);
      expect(norm).toBeGreaterThan(MAX_NORM);

      await receipt(await postUpdate(url, updateBody(factored, base.version, 1, 'low-rank', dtype)));
      await receipt(
        await postUpdate(
          url,
          updateBody(
            filledWeights(config, () => 0),
            base.version,
            1,
          ),
        ),
      );
      const served = (await getWeights(url, await getManifest(url))).tensors;
      const before = baseWeights.item_embedding?.data ?? new Float32Array();
      served.item_embedding?.data.forEach((value, index) => {
        const [i, j] = [Math.floor(index / dim), index % dim];
        const product = (u[i] ?? 0) * (v[j] ?? 0);
        expect(value).toBeCloseTo((before[index] ?? 0) + ((MAX_NORM / norm) * product) / 2, 6);
      });
      expect(served.item_bias?.data).toEqual(baseWeights.item_bias?.data);
    },
  );

  it('refuses low-rank updates whose factors are unpaired, do not chain, miss the shape or hold NaN', async () => {
    const { version } = await getManifest(url);
    const { items, dim } = config;
    const zero = filledWeights(config, () => 0);
    const withFactors = (u: number[], v: number[], fill = 0): WeightSet => {
      const update: WeightSet = { ...zero };
      delete update.item_embedding;
      const [uRows = 0, uCols = 0] = u;
      const [vRows = 0, vCols = 0] = v;
      update['item_embedding.u'] = { shape: u, data: new Float32Array(uRows * uCols).fill(fill) };
      update['item_embedding.v'] = { shape: v, data: new Float32Array(vRows * vCols).fill(fill) };
      return update;
    };
    const unpaired = withFactors([items, 1], [1, dim]);
    delete unpaired['item_embedding.v'];
    const bad: WeightSet[] = [
      unpaired,
      withFactors([items, 1], [2, dim]),
      withFactors([items - 1, 1], [1, dim]),
      withFactors([items, 17], [17, dim]),
      withFactors([items, 1], [1, dim], Number.NaN),
    ];
    for (const update of bad)
      await expectError(await postUpdate(url, updateBody(update, version, 1, 'low-rank')), 400, 'INVALID_PAYLOAD');
    // Factors are not read in a dense update.
    await expectError(
      await postUpdate(url, updateBody(withFactors([items, 1], [1, dim]), version, 1)),
      400,
      'INVALID_PAYLOAD',
    );
    expect((await getManifest(url)).version).toBe(version);
  });

  it('refuses bad updates with a 4xx code, stores none of them, and keeps serving', async () => {
    const { version } = await getManifest(url);
    const zero = filledWeights(config, () => 0);
    const nan = filledWeights(config, (i) => (i === 5 ? Number.NaN : 0));
    const wrongShape = filledWeights({ ...config, dim: 5 }, () => 0);
    const extraTensor: WeightSet = { ...zero, extra: { shape: [1], data: new Float32Array(1) } };
    const header = new Uint8Array(16);
    new DataView(header.buffer).setBigUint64(0, 1n << 40n, true);

    const cases: [Uint8Array | string, number, string][] = [
      ['not a tensor payload', 400, 'INVALID_PAYLOAD'],
      [header, 400, 'INVALID_PAYLOAD'],
      [updateBody(nan, version, 1), 400, 'INVALID_PAYLOAD'],
      [updateBody(wrongShape, version, 1), 400, 'INVALID_PAYLOAD'],
      [updateBody(extraTensor, version, 1), 400, 'INVALID_PAYLOAD'],
      [updateBody(zero, version, 0), 400, 'INVALID_PAYLOAD'],
      [updateBody(zero, version, 10_001), 400, 'INVALID_PAYLOAD'],
      [updateBody(zero, version, 1, 'weights'), 400, 'INVALID_PAYLOAD'],
      [updateBody(zero, 99, 1), 404, 'NOT_FOUND'],
      [updateBody(zero, version - 1, 1), 409, 'STALE_UPDATE'],
      [new Uint8Array(5000), 413, 'PAYLOAD_TOO_LARGE'],
    ];
    for (const [body, status, code] of cases) await expectError(await postUpdate(url, body), status, code);

    // Without Content-Length the body is counted as it streams.
    const chunks = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(new Uint8Array(1000));
        controller.close();
      },
    });
    const streamed = await fetch(`${url}/v1/updates`, { method: 'POST', body: chunks, duplex: 'half' } as RequestInit);
    await expectError(streamed, 413, 'PAYLOAD_TOO_LARGE');

    expect((await fetch(`${url}/v1/health`)).status).toBe(200);
    expect((await getManifest(url)).version).toBe(version);
    expect(await receipt(await postUpdate(url, updateBody(zero, version, 1)))).toMatchObject({ pending: 1, version });
  });

  it('reads an update from the web request where there is no Node request (a host other than Node), with the same limit', async () => {
    const { version } = await getManifest(url);
    const stream = (chunks: number, size: number) =>
      new ReadableStream({
        start(controller) {
          for (let i = 0; i < chunks; i++) controller.enqueue(new Uint8Array(size));
          controller.close();
        },
      });
    const post = (body: ReadableStream | Buffer) =>
      running.server.app.request('/v1/updates', { method: 'POST', body, duplex: 'half' } as RequestInit);
    await expectError(await post(stream(5, 1000)), 413, 'PAYLOAD_TOO_LARGE');
    await expectError(await post(stream(2, 1000)), 400, 'INVALID_PAYLOAD');
    // Aggregated with the update the test before left pending: the round of two completes.
    const body = updateBody(
      filledWeights(config, () => 0),
      version,
      1,
    );
    expect(await receipt(await post(Buffer.from(body)))).toMatchObject({ pending: 0, version: version + 1 });
  });
});

describe('concurrent updates', () => {
  let database: TestDatabase;
  /** PGlite opens a folder once per process, so the two servers share its client; on PostgreSQL each has its own pool. */
  let shared: SqlClient | undefined;
  let servers: SyncServer[] = [];
  let urls: string[] = [];
  beforeAll(async () => {
    database = await testDatabase();
    shared = TEST_STORE === 'embedded' ? await database.connect() : undefined;
    const storage = shared ? { sql: shared } : database.options;
    // Started together: both migrate the new database at once.
    servers = await Promise.all(
      [0, 1].map(() =>
        createSyncServer({ ...storage, roundSize: 4, modelDim: 4, serverOptimizer: 'mean', logger: quiet }),
      ),
    );
    urls = await Promise.all(servers.map(async (server) => (await server.listen({ port: 0 })).url));
    await servers[0]?.importCatalog(makeItems(4));
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
    await shared?.close();
    await database.remove();
  });

  it('aggregates a round exactly once, to the weighted mean of the accepted updates, when two servers race', async () => {
    const base = await getManifest(urls[0] ?? '');
    const baseWeights = (await getWeights(urls[0] ?? '', base)).tensors;
    const deltas = Array.from({ length: 8 }, (_, k) => filledWeights(base.config, (i) => ((i % 5) - k) / 100));
    const examples = (k: number) => 1 + k;
    const responses = await Promise.all(
      deltas.map((delta, k) => postUpdate(urls[k % 2] ?? '', updateBody(delta, base.version, examples(k)))),
    );
    const accepted = deltas.flatMap((_, k) => (responses[k]?.status === 200 ? [k] : []));
    const stale = responses.filter((response) => response.status === 409);
    expect([accepted.length, stale.length]).toEqual([4, 4]);
    const pending = (await Promise.all(accepted.map((k) => receipt(responses[k] as Response)))).map((r) => r.pending);
    expect(pending.sort()).toEqual([0, 1, 2, 3]);

    const next = await getManifest(urls[1] ?? '');
    expect(next).toMatchObject({ version: base.version + 1, updates: 4 });
    const total = accepted.reduce((sum, k) => sum + examples(k), 0);
    for (const url of urls) {
      const served = (await getWeights(url, next)).tensors;
      for (const [name, tensor] of Object.entries(baseWeights)) {
        const got = served[name]?.data ?? new Float32Array();
        tensor.data.forEach((value, i) => {
          const mean = accepted.reduce((sum, k) => sum + examples(k) * (deltas[k]?.[name]?.data[i] ?? 0), 0) / total;
          expect(got[i], `${name}[${i}]`).toBeCloseTo(value + mean, 6);
        });
      }
    }
  });
});
