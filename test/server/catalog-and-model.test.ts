import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalog, toCatalogItem } from '../../src/core/catalog.js';
import { initialWeights, modelSpec } from '../../src/core/model/model-spec.js';
import { CatalogDocumentSchema } from '../../src/core/sync/protocol.js';
import { encodeTensors } from '../../src/core/sync/tensor-codec.js';
import { MODEL_METADATA } from '../../src/server/index.js';
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

describe('catalog and model over HTTP', () => {
  let running: Running;
  let url: string;
  beforeAll(async () => {
    running = await startServer({ adminToken: ADMIN_TOKEN, modelDim: 8 });
    url = running.url;
  });
  afterAll(() => running.stop());

  it('answers health, and has no model before a catalog', async () => {
    expect(await (await fetch(`${url}/v1/health`)).json()).toEqual({ ok: true, version: 1 });
    await expectError(await fetch(`${url}/v1/model`), 404, 'MODEL_UNAVAILABLE');
    expect(await (await fetch(`${url}/v1/catalog`)).json()).toEqual({ version: 0, items: [] });
  });

  it('imports a catalog, then publishes an initial model sized for it', async () => {
    const response = await putCatalog(url, { items: makeItems(6) });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ catalogVersion: 1, items: 6, changed: true, modelVersion: 1 });

    const catalog = v.parse(CatalogDocumentSchema, await (await fetch(`${url}/v1/catalog`)).json());
    expect(catalog.version).toBe(1);
    expect(catalog.items[0]).toEqual(toCatalogItem(makeItems(1)[0] ?? { id: 'x' }));
    expect(catalog.items[1]?.category).toEqual(['Bags', 'Totes']);

    const manifest = await getManifest(url);
    expect(manifest).toMatchObject({ version: 1, catalogVersion: 1, updates: 0 });
    expect(manifest.config).toEqual({ items: 6, categories: 3, brands: 1, dim: 8 });
    expect(manifest.weights.F16).toBe('/v1/model/weights/1?dtype=F16');
  });

  it('serves weights that decode to the model shapes, in every dtype', async () => {
    const manifest = await getManifest(url);
    const { tensors, metadata } = await getWeights(url, manifest);
    const expected = initialWeights(manifest.config);
    for (const spec of modelSpec(manifest.config)) expect(tensors[spec.name]?.shape).toEqual(spec.shape);
    expect(Array.from(tensors.item_embedding?.data ?? [])).toEqual(Array.from(expected.item_embedding?.data ?? []));
    expect(metadata[MODEL_METADATA.version]).toBe('1');
    for (const dtype of ['F16', 'I8'] as const) {
      const lossy = (await getWeights(url, manifest, dtype)).tensors.category_embedding?.data ?? [];
      const exact = expected.category_embedding?.data ?? [];
      expect(lossy.length).toBe(exact.length);
      const worst = Math.max(...Array.from(lossy, (value, i) => Math.abs(value - (exact[i] ?? 0))));
      expect(worst).toBeLessThan(0.01);
    }
  });

  it('revalidates the manifest and weights with ETags (304), keeping CORS on the 304', async () => {
    const manifest = await fetch(`${url}/v1/model`);
    const tag = manifest.headers.get('etag');
    expect(tag).toMatch(/^"[^"]+"$/);
    const again = await fetch(`${url}/v1/model`, {
      headers: { 'if-none-match': tag ?? '', origin: 'https://shop.test' },
    });
    expect(again.status).toBe(304);
    expect(again.headers.get('access-control-allow-origin')).toBe('*');

    const path = (await getManifest(url)).weights.F32;
    const weights = await fetch(`${url}${path}`);
    await weights.arrayBuffer();
    expect(weights.headers.get('content-type')).toBe('application/octet-stream');
    expect(weights.headers.get('cache-control')).toContain('immutable');
    const weightsTag = weights.headers.get('etag') ?? '';
    expect((await fetch(`${url}${path}`, { headers: { 'if-none-match': weightsTag } })).status).toBe(304);
    const f16 = await fetch(`${url}${path.replace('F32', 'F16')}`, { headers: { 'if-none-match': weightsTag } });
    expect(f16.status).toBe(200);
  });

  it('answers 404 for an unknown weights version and 400 for a bad one', async () => {
    await expectError(await fetch(`${url}/v1/model/weights/99`), 404, 'NOT_FOUND');
    await expectError(await fetch(`${url}/v1/model/weights/abc`), 400, 'INVALID_REQUEST');
    await expectError(await fetch(`${url}/v1/model/weights/1?dtype=F64`), 400, 'INVALID_REQUEST');
    await expectError(await fetch(`${url}/v1/nowhere`), 404, 'NOT_FOUND');
  });

  it('grows the model when the catalog grows, keeping the rows it had', async () => {
    const before = await getManifest(url);
    const old = (await getWeights(url, before)).tensors;
    const unchanged = await putCatalog(url, makeItems(6));
    expect(await unchanged.json()).toMatchObject({ catalogVersion: 1, changed: false, modelVersion: 1 });

    const grown = [...makeItems(6), { id: 'hat-1', category: 'Hats' }, { id: 'hat-2', category: 'Hats' }];
    expect(await (await putCatalog(url, grown)).json()).toEqual({
      catalogVersion: 2,
      items: 8,
      changed: true,
      modelVersion: 2,
    });
    const after = await getManifest(url);
    expect(after).toMatchObject({
      version: 2,
      catalogVersion: 2,
      config: { items: 8, categories: 4, brands: 1, dim: 8 },
    });
    const tensors = (await getWeights(url, after)).tensors;
    expect(Array.from(tensors.item_embedding?.data.subarray(0, 6 * 8) ?? [])).toEqual(
      Array.from(old.item_embedding?.data ?? []),
    );
    expect(Array.from(tensors.category_embedding?.data.subarray(0, 3 * 8) ?? [])).toEqual(
      Array.from(old.category_embedding?.data ?? []),
    );
  });

  it('refuses invalid catalogs with 400 and leaves the catalog as it was', async () => {
    const bad = await putCatalog(url, [{ id: 'x', price: -1 }]);
    expect(await expectError(bad, 400, 'INVALID_REQUEST')).toMatch(/items\.0\.price/);
    await expectError(await putCatalog(url, []), 400, 'INVALID_REQUEST');
    const malformed = await fetch(`${url}/v1/catalog`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: '[{"id":',
    });
    await expectError(malformed, 400, 'INVALID_REQUEST');
    const badCsv = await putFeed(url, 'text/csv', 'id,price\nx,$12\n');
    expect(await expectError(badCsv, 400, 'INVALID_REQUEST')).toMatch(/items\.0\.price/);
    expect(((await (await fetch(`${url}/v1/catalog`)).json()) as { version: number }).version).toBe(2);
  });

  it('publishes operator weights with PUT /v1/model, growing them to the catalog', async () => {
    const config = { items: 7, categories: 4, brands: 1, dim: 8 };
    const weights = filledWeights(config, (i) => (i % 7) / 8);
    const body = encodeTensors(weights, { [MODEL_METADATA.config]: JSON.stringify(config) }, 'F16');
    const response = await fetch(`${url}/v1/model`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/octet-stream' },
      body: Buffer.from(body),
    });
    expect(response.status).toBe(200);
    const manifest = await getManifest(url);
    expect(manifest).toMatchObject({ version: 3, config: { items: 8, categories: 4, brands: 1, dim: 8 } });
    const served = (await getWeights(url, manifest)).tensors.item_embedding?.data ?? new Float32Array();
    expect(Array.from(served.subarray(0, 7 * 8))).toEqual(Array.from(weights.item_embedding?.data ?? []));
  });

  it('refuses operator weights that do not fit, and keeps the model', async () => {
    const put = (body: Uint8Array) =>
      fetch(`${url}/v1/model`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        body: Buffer.from(body),
      });
    const wrongDim = filledWeights({ items: 8, categories: 4, brands: 1, dim: 4 }, () => 0);
    expect(await expectError(await put(encodeTensors(wrongDim)), 400, 'INVALID_PAYLOAD')).toMatch(/shape/);
    const tooMany = { items: 9, categories: 4, brands: 1, dim: 8 };
    const body = encodeTensors(
      filledWeights(tooMany, () => 0),
      { [MODEL_METADATA.config]: JSON.stringify(tooMany) },
    );
    expect(await expectError(await put(body), 400, 'INVALID_PAYLOAD')).toMatch(/catalog version 2 has 8/);
    const badConfig = encodeTensors(wrongDim, { [MODEL_METADATA.config]: '{"items":0}' });
    await expectError(await put(badConfig), 400, 'INVALID_PAYLOAD');
    expect((await getManifest(url)).version).toBe(3);
  });

  it('refuses a published model over maxModelBytes with 413, and keeps the model', async () => {
    const small = await startServer({ adminToken: ADMIN_TOKEN, modelDim: 8, maxModelBytes: 1024 });
    try {
      await small.server.importCatalog(makeItems(8));
      const { version, config } = await getManifest(small.url);
      const body = encodeTensors(filledWeights(config, () => 0));
      expect(body.length).toBeGreaterThan(1024);
      const response = await fetch(`${small.url}/v1/model`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        body: Buffer.from(body),
      });
      await expectError(response, 413, 'PAYLOAD_TOO_LARGE');
      expect((await getManifest(small.url)).version).toBe(version);
    } finally {
      await small.stop();
    }
  });

  it('imports catalogs in-process through the SyncServer, validating them', async () => {
    await expect(running.server.importCatalog([{ id: '' }])).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    const result = await running.server.importCatalog([{ id: 'sku-0', name: 'Renamed' }]);
    expect(result).toMatchObject({ catalogVersion: 3, items: 8, changed: true, modelVersion: 3 });
    const catalog = (await (await fetch(`${url}/v1/catalog`)).json()) as { items: { id: string; name: string }[] };
    expect(catalog.items[0]).toMatchObject({ id: 'sku-0', name: 'Renamed', category: ['Shoes', 'Running'] });
    expect(new Catalog(catalog.items.map((item) => toCatalogItem(item))).indexOf('hat-2')).toBe(7);
  });

  it('imports a CSV or JSON-lines feed sent as the body', async () => {
    const before = ((await (await fetch(`${url}/v1/catalog`)).json()) as { items: unknown[] }).items.length;
    const csv =
      'id,name,category,brand,price,inStock,ignored\n"hat-3","Wool hat, grey",Hats > Winter,Acme,19.5,yes,x\n';
    expect(await (await putFeed(url, 'text/csv; charset=utf-8', csv)).json()).toMatchObject({
      items: 9,
      changed: true,
    });
    const lines = '{"id":"hat-4","category":"Hats"}\n{"id":"hat-5","category":"Hats"}\n';
    expect(await (await putFeed(url, 'application/x-ndjson', lines)).json()).toMatchObject({ items: before + 3 });
    const catalog = (await (await fetch(`${url}/v1/catalog`)).json()) as { items: Array<{ id: string }> };
    expect(catalog.items.find((item) => item.id === 'hat-3')).toEqual({
      id: 'hat-3',
      name: 'Wool hat, grey',
      category: ['Hats', 'Winter'],
      brand: 'Acme',
      price: 19.5,
      inStock: true,
    });
  });
});

function putFeed(url: string, type: string, body: string): Promise<Response> {
  return fetch(`${url}/v1/catalog`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': type },
    body,
  });
}
