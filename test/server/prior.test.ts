import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePriorFile } from '../../src/core/sync/prior-file.js';
import {
  ADMIN_TOKEN,
  expectError,
  filledWeights,
  getManifest,
  getWeights,
  makeItems,
  putCatalog,
  type Running,
  startServer,
} from './helpers.js';

describe('the prior over HTTP (GET /v1/model/prior)', () => {
  let running: Running;
  let url: string;
  const get = (query = '', token: string | null = ADMIN_TOKEN) =>
    fetch(`${url}/v1/model/prior${query}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  beforeAll(async () => {
    running = await startServer({ adminToken: ADMIN_TOKEN, modelDim: 4 });
    url = running.url;
  });
  afterAll(() => running.stop());

  it('answers 404 before a model is published', async () => {
    await expectError(await get(), 404, 'MODEL_UNAVAILABLE');
  });

  it('is for the operator: 401 without the token, 403 with another', async () => {
    await expectError(await get('', null), 401, 'UNAUTHORIZED');
    await expectError(await get('', 'not-the-token'), 403, 'FORBIDDEN');
  });

  it('holds the current model, its config and the catalog, decoding as a device reads it', async () => {
    expect((await putCatalog(url, makeItems(6))).status).toBe(200);
    const grown = await running.server.publishModel(
      filledWeights({ items: 6, categories: 3, brands: 1, dim: 4 }, (i) => (i % 5) / 4),
    );
    const manifest = await getManifest(url);
    expect(manifest.version).toBe(grown.version);

    const response = await get('?dtype=F32');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    const prior = decodePriorFile(new Uint8Array(await response.arrayBuffer()));
    expect({ version: prior.version, config: prior.config, catalogVersion: prior.catalogVersion }).toEqual({
      version: manifest.version,
      config: manifest.config,
      catalogVersion: manifest.catalogVersion,
    });
    expect(prior.items.map((item) => item.id)).toEqual(makeItems(6).map((item) => item.id));
    const served = await getWeights(url, manifest, 'F32');
    for (const [name, tensor] of Object.entries(served.tensors)) {
      expect([...(prior.weights[name]?.data ?? [])], name).toEqual([...tensor.data]);
    }

    // float16 by default, like the weights devices download; the same as the server's F16 weights.
    const half = decodePriorFile(new Uint8Array(await (await get()).arrayBuffer()));
    const servedHalf = await getWeights(url, manifest, 'F16');
    expect([...(half.weights.item_embedding?.data ?? [])]).toEqual([
      ...(servedHalf.tensors.item_embedding?.data ?? []),
    ]);
    expect(half.version).toBe(manifest.version);
  });

  it('answers 400 for an unknown dtype', async () => {
    await expectError(await get('?dtype=F64'), 400, 'INVALID_REQUEST');
  });

  it('is what SyncServer.exportPrior() returns in-process', async () => {
    const bytes = await running.server.exportPrior('I8');
    const prior = decodePriorFile(bytes);
    expect(prior.version).toBe((await getManifest(url)).version);
    expect(prior.items).toHaveLength(6);
  });
});
