import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePriorFile } from '../../src/core/sync/prior-file.js';
import { type CatalogDocument, CatalogDocumentSchema } from '../../src/core/sync/protocol.js';
import { createSyncServer } from '../../src/server/index.js';
import {
  ADMIN_TOKEN,
  expectError,
  getManifest,
  makeItems,
  putCatalog,
  quiet,
  type Running,
  startServer,
  type TestDatabase,
  testDatabase,
} from './helpers.js';

/** Three shoppers' histories: sku-0 is followed by sku-1 twice, and "gone" is no longer sold. */
const HISTORIES = [
  ['sku-0', 'sku-1', 'sku-2'],
  ['sku-0', 'sku-1'],
  ['sku-0', 'gone', 'sku-3'],
];

/** The co-visits of {@link HISTORIES} (window 3: a step d after adds 1/d), by item id. */
const EXPECTED = {
  'sku-0': [
    ['sku-1', 2],
    ['sku-3', 1],
    ['sku-2', 0.5],
  ],
  'sku-1': [['sku-2', 1]],
};

const MAX_BYTES = 20_000;

function put(url: string, body: string, type = 'application/json', token: string | null = ADMIN_TOKEN) {
  return fetch(`${url}/v1/co-visits`, {
    method: 'PUT',
    headers: { 'content-type': type, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });
}

async function getCatalog(url: string): Promise<CatalogDocument> {
  return v.parse(CatalogDocumentSchema, await (await fetch(`${url}/v1/catalog`)).json());
}

/** A document's co-visits by item id, the way a device reads them. */
function byId(document: Pick<CatalogDocument, 'items' | 'coVisits'>): Record<string, Array<[string, number]>> {
  const id = (index: number) => document.items[index]?.id ?? `#${index}`;
  return Object.fromEntries(
    (document.coVisits ?? [])
      .map((row, index): [string, Array<[string, number]>] => [id(index), row.map(([to, w]) => [id(to), w])])
      .filter(([, row]) => row.length > 0),
  );
}

describe('co-visits over HTTP (PUT /v1/co-visits)', () => {
  let running: Running;
  let url: string;
  beforeAll(async () => {
    running = await startServer({ adminToken: ADMIN_TOKEN, modelDim: 4, maxCatalogBytes: MAX_BYTES });
    url = running.url;
  });
  afterAll(() => running.stop());

  it('is for the operator, and needs a catalog first', async () => {
    const body = JSON.stringify({ histories: HISTORIES });
    await expectError(await put(url, body, 'application/json', null), 401, 'UNAUTHORIZED');
    await expectError(await put(url, body, 'application/json', 'not-the-token'), 403, 'FORBIDDEN');
    await expectError(await put(url, body), 404, 'NOT_FOUND');
  });

  it('counts the histories and publishes them with the catalog as its next version; the model stays', async () => {
    expect((await putCatalog(url, makeItems(6))).status).toBe(200);
    const before = await fetch(`${url}/v1/model`);
    const tag = before.headers.get('etag') ?? '';
    expect(await before.json()).toMatchObject({ version: 1, catalogVersion: 1, latestCatalogVersion: 1 });

    const response = await put(url, JSON.stringify({ histories: HISTORIES }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      catalogVersion: 2,
      changed: true,
      histories: 3,
      items: 8,
      skipped: 1,
      unknown: ['gone'],
      pairs: 4,
    });
    const catalog = await getCatalog(url);
    expect(catalog.version).toBe(2);
    expect(catalog.items.map((item) => item.id)).toEqual(makeItems(6).map((item) => item.id));
    expect(byId(catalog)).toEqual(EXPECTED);

    // Devices see a newer catalog in the manifest (its ETag changes), for the same model.
    const after = await fetch(`${url}/v1/model`, { headers: { 'if-none-match': tag } });
    expect(after.status).toBe(200);
    expect(await after.json()).toMatchObject({ version: 1, catalogVersion: 1, latestCatalogVersion: 2 });
  });

  it('makes no new version when the histories give the same co-visits', async () => {
    const again = await put(url, JSON.stringify({ histories: [...HISTORIES].reverse() }));
    expect(await again.json()).toMatchObject({ catalogVersion: 2, changed: false, pairs: 4 });
  });

  it('reads the same histories from a CSV or JSONL feed of shopper,item,time rows, sorted by time', async () => {
    const rows = HISTORIES.flatMap((history, shopper) =>
      history.map((item, step) => ({ shopper: `s${shopper}`, item, time: 1000 * step })),
    ).reverse();
    const csv = `time,shopper,item,ignored\n${rows.map((row) => `${row.time},${row.shopper},${row.item},x`).join('\n')}\n`;
    expect(await (await put(url, csv, 'text/csv')).json()).toMatchObject({ changed: false, skipped: 1, pairs: 4 });
    const dated = rows.map((row) => JSON.stringify({ ...row, time: new Date(row.time).toISOString() })).join('\n');
    expect(await (await put(url, dated, 'application/x-ndjson')).json()).toMatchObject({
      changed: false,
      histories: 3,
      pairs: 4,
    });
    expect((await getCatalog(url)).version).toBe(2);
  });

  it('refuses bad and oversized bodies with a code, and changes nothing', async () => {
    const refusals: Array<[string, string, number, string]> = [
      ['{"histories":', 'application/json', 400, 'INVALID_REQUEST'],
      [JSON.stringify({ histories: 'sku-0' }), 'application/json', 400, 'INVALID_REQUEST'],
      [JSON.stringify({ histories: [['sku-0', 7]] }), 'application/json', 400, 'INVALID_REQUEST'],
      [JSON.stringify({ histories: [['sku-0', 'x'.repeat(201)]] }), 'application/json', 400, 'INVALID_REQUEST'],
      [JSON.stringify({ histories: [['sku-0']] }), 'text/plain', 400, 'INVALID_REQUEST'],
      ['shopper,item,time\na,sku-0,yesterday\n', 'text/csv', 400, 'INVALID_REQUEST'],
      ['shopper,item\na,sku-0\n', 'text/csv', 400, 'INVALID_REQUEST'],
      ['{"shopper":"a","item":"sku-0","time":1}\nnot json\n', 'application/x-ndjson', 400, 'INVALID_REQUEST'],
      [JSON.stringify({ histories: [Array(MAX_BYTES).fill('sku-0')] }), 'application/json', 413, 'PAYLOAD_TOO_LARGE'],
    ];
    for (const [body, type, status, code] of refusals) await expectError(await put(url, body, type), status, code);
    const message = await expectError(
      await put(url, 'shopper,item,time\na,sku-0,soon\n', 'text/csv'),
      400,
      'INVALID_REQUEST',
    );
    expect(message).toMatch(/row 1.*time/u);
    const catalog = await getCatalog(url);
    expect(catalog.version).toBe(2);
    expect(byId(catalog)).toEqual(EXPECTED);
  });

  it('keeps them by item through a catalog import', async () => {
    const items = [{ id: 'new-0', category: 'Hats' }, ...makeItems(6).map((item) => ({ ...item, price: 99 }))];
    expect(await (await putCatalog(url, items)).json()).toMatchObject({ catalogVersion: 3, changed: true });
    const catalog = await getCatalog(url);
    expect(catalog.items.at(-1)?.id).toBe('new-0');
    expect(byId(catalog)).toEqual(EXPECTED);
    expect(await getManifest(url)).toMatchObject({ catalogVersion: 3, latestCatalogVersion: 3 });
  });

  it('travels in the prior file, and empty histories clear them', async () => {
    const response = await fetch(`${url}/v1/model/prior?dtype=F32`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    const prior = decodePriorFile(new Uint8Array(await response.arrayBuffer()));
    expect(prior.catalogVersion).toBe(3);
    expect(byId(prior)).toEqual(EXPECTED);

    expect(await (await put(url, JSON.stringify({ histories: [] }))).json()).toMatchObject({
      catalogVersion: 4,
      changed: true,
      pairs: 0,
    });
    expect((await getCatalog(url)).coVisits).toBeUndefined();
  });
});

describe('co-visits in the store', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await testDatabase();
  });
  afterAll(() => database.remove());

  it('survive a restart on the same database', async () => {
    const options = { ...database.options, modelDim: 4, logger: quiet };
    const first = await createSyncServer(options);
    try {
      await first.importCatalog(makeItems(6));
      expect(await first.importCoVisits(HISTORIES)).toMatchObject({ catalogVersion: 2, changed: true });
      await expect(first.importCoVisits([['sku-0', '']])).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    } finally {
      await first.close();
    }
    const second = await createSyncServer(options);
    try {
      const { url } = await second.listen({ port: 0 });
      const catalog = await getCatalog(url);
      expect(catalog.version).toBe(2);
      expect(byId(catalog)).toEqual(EXPECTED);
    } finally {
      await second.close();
    }
  });
});
