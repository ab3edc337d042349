import { describe, expect, it } from 'vitest';
import type { KeyValueStore, Transport, TransportRequest, TransportResponse } from '../../../src/core/adapters.js';
import { Catalog, type CatalogItem, toCatalogItem } from '../../../src/core/catalog.js';
import type { ConsentTier } from '../../../src/core/consent.js';
import type { OmniPersonaError } from '../../../src/core/errors.js';
import { historyInput } from '../../../src/core/features/history.js';
import { MemoryEventLog, MemoryKeyValueStore } from '../../../src/core/memory-storage.js';
import { initialWeights, type ModelConfig } from '../../../src/core/model/model-spec.js';
import type { WeightSet } from '../../../src/core/model/weights.js';
import { createCorePersonalizer } from '../../../src/core/personalizer/create-core-personalizer.js';
import { ModelManager } from '../../../src/core/personalizer/model-manager.js';
import { decodePriorFile, encodePriorFile, type PriorFile } from '../../../src/core/sync/prior-file.js';
import { MODEL_METADATA, UPDATE_METADATA } from '../../../src/core/sync/protocol.js';
import { decodeTensors, encodeTensors } from '../../../src/core/sync/tensor-codec.js';
import { ArithmeticRuntime } from './arithmetic-runtime.js';

const PRIOR_URL = '/omnipersona-prior.bin';
const CATEGORIES = ['Shoes', 'Coffee', 'Kitchen', 'Outdoor'];
/** The shop's catalog, in an order no page visit produces: the prior's rows follow it. */
const catalogItems: CatalogItem[] = CATEGORIES.flatMap((category) =>
  Array.from({ length: 6 }, (_, i) => toCatalogItem({ id: `${category}-${i}`, name: `${category} ${i}`, category })),
).reverse();
const config: ModelConfig = { items: catalogItems.length, categories: CATEGORIES.length + 1, brands: 1, dim: 4 };
/** What the shop's shoppers taught the model: these items are popular, whatever one views. */
const FAVOURITES = ['Kitchen-4', 'Outdoor-1', 'Shoes-5'];

function priorWeights(seed = 3): WeightSet {
  const weights = initialWeights(config, seed);
  const bias = weights.item_bias?.data as Float32Array;
  FAVOURITES.forEach((id, rank) => {
    bias[catalogItems.findIndex((item) => item.id === id)] = 3 - rank;
  });
  return weights;
}

const PRIOR: PriorFile = { version: 7, catalogVersion: 4, config, items: catalogItems, weights: priorWeights() };

const bytesOf = (body: Uint8Array, status = 200): TransportResponse => ({ status, headers: {}, body });
const json = (body: unknown) => bytesOf(new TextEncoder().encode(JSON.stringify(body)));

/** The shop's static files: answers the prior's URL with `body`, and records every request. */
function staticFiles(body: Uint8Array | (() => TransportResponse)) {
  const requests: TransportRequest[] = [];
  const transport: Transport = {
    async request(request) {
      requests.push(request);
      if (typeof body === 'function') return body();
      return request.path === PRIOR_URL ? bytesOf(body) : bytesOf(new Uint8Array(), 404);
    },
  };
  return { transport, requests };
}

/** A sync server that cannot be reached. */
const unreachable: Transport = {
  async request() {
    throw new TypeError('Failed to fetch');
  },
};

function setup(
  options: { consent?: ConsentTier; server?: Transport; assets?: Transport; prior?: boolean; kv?: KeyValueStore } = {},
) {
  const runtime = new ArithmeticRuntime();
  const kv = options.kv ?? new MemoryKeyValueStore();
  let clock = 1_700_000_000_000;
  let id = 0;
  const personalizer = createCorePersonalizer(
    {
      consent: options.consent ?? 'on-device',
      trainAfterEvents: 0,
      syncAfterTraining: false,
      offlineModelDim: 8,
      weightsDtype: 'F32',
      ...(options.server ? { endpoint: 'http://sync.test' } : {}),
      ...((options.prior ?? true) ? { prior: PRIOR_URL } : {}),
    },
    {
      log: new MemoryEventLog(),
      kv,
      ...(options.server ? { transport: options.server } : {}),
      ...(options.assets ? { assets: options.assets } : {}),
      loadRuntime: async () => runtime,
      scheduleIdle: () => {},
      now: () => (clock += 1000),
      randomId: () => `id-${++id}`,
    },
  );
  const errors: OmniPersonaError[] = [];
  personalizer.on('error', (error) => errors.push(error));
  const view = (itemId: string) => personalizer.track({ type: 'view', item: { id: itemId, category: 'Coffee' } });
  const forYou = async () => (await personalizer.recommend({ kind: 'for-you', count: 3 })).map((pick) => pick.item.id);
  return { personalizer, runtime, kv, errors, view, forYou };
}

function expectWeights(actual: WeightSet, expected: WeightSet): void {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const [name, tensor] of Object.entries(expected)) {
    expect([...(actual[name]?.data ?? [])], name).toEqual([...tensor.data]);
  }
}

describe('the prior', () => {
  it.each([
    ['the sync server cannot be reached', unreachable],
    ['no sync server is configured', undefined],
  ])('is where the model starts when %s: its weights, catalog and version', async (_, server) => {
    const files = staticFiles(encodePriorFile(PRIOR));
    const { personalizer, runtime, errors, view, forYou } = setup({ server, assets: files.transport });
    view('Coffee-2');
    // The prior's favourites, though the shopper viewed coffee and this device never saw them.
    expect(await forYou()).toEqual(FAVOURITES);
    expectWeights(await runtime.weights(), PRIOR.weights);
    expect(personalizer.catalog.items.map((item) => item.id)).toEqual(catalogItems.map((item) => item.id));
    expect((await personalizer.status()).modelVersion).toBe(7);
    expect(errors).toEqual([]);
    // One plain GET of the shop's file: no body, no headers, nothing about the shopper.
    expect(files.requests).toEqual([{ method: 'GET', path: PRIOR_URL }]);
  });

  it('reads back what it was written from, in every dtype', () => {
    for (const dtype of ['F32', 'F16', 'I8'] as const) {
      const read = decodePriorFile(encodePriorFile(PRIOR, dtype));
      expect({ ...read, weights: undefined }).toEqual({ ...PRIOR, weights: undefined });
      const bias = read.weights.item_bias?.data ?? new Float32Array();
      expect(Math.max(...bias)).toBeCloseTo(3, 1);
    }
  });

  const { [MODEL_METADATA.catalog]: _catalog, ...withoutCatalog } = decodeTensors(encodePriorFile(PRIOR)).metadata;
  const { brand_embedding: _brands, ...withoutBrands } = PRIOR.weights;
  it.each([
    ['bytes that are no tensor payload', new TextEncoder().encode('<!doctype html><title>Not found</title>')],
    ['a model weights file without the catalog', encodeTensors(PRIOR.weights, withoutCatalog)],
    ['weights missing a tensor of the config', encodePriorFile({ ...PRIOR, weights: withoutBrands })],
    ['weights for another config', encodePriorFile({ ...PRIOR, config: { ...config, dim: 5 } })],
    [
      'a catalog that lists an item twice',
      encodePriorFile({ ...PRIOR, items: [...catalogItems.slice(1), catalogItems[2] as CatalogItem] }),
    ],
    [
      'more catalog items than model rows',
      encodePriorFile({ ...PRIOR, config: { ...config, items: 3 }, weights: initialWeights({ ...config, items: 3 }) }),
    ],
    ['a version of 0', encodePriorFile({ ...PRIOR, version: 0 })],
  ])('is refused and reported when it holds %s; the device builds its own model', async (_, bytes) => {
    const { personalizer, errors, view } = setup({ server: unreachable, assets: staticFiles(bytes).transport });
    view('Coffee-0');
    view('Coffee-1');
    expect(await personalizer.recommend({ kind: 'similar', item: 'Coffee-0', count: 3 })).toHaveLength(1);
    expect((await personalizer.status()).modelVersion).toBe(0);
    expect(errors.map((error) => error.code)).toEqual(['INVALID_PAYLOAD']);
    expect(errors[0]?.message).toContain(`The prior at ${PRIOR_URL} cannot be used`);
    expect(personalizer.catalog.size).toBe(2);
  });

  it('reports a prior the shop does not serve, and works on', async () => {
    const { personalizer, errors, view } = setup({
      assets: staticFiles(() => bytesOf(new Uint8Array(), 404)).transport,
    });
    view('Coffee-0');
    view('Coffee-1');
    expect(await personalizer.recommend({ kind: 'similar', item: 'Coffee-0', count: 3 })).toHaveLength(1);
    expect((await personalizer.status()).modelVersion).toBe(0);
    expect(errors.map((error) => error.code)).toEqual(['NOT_FOUND']);
  });

  it('is not fetched without the option: the device builds its model as before', async () => {
    const files = staticFiles(encodePriorFile(PRIOR));
    const { personalizer, errors, view } = setup({ server: unreachable, assets: files.transport, prior: false });
    view('Coffee-0');
    view('Coffee-1');
    await personalizer.recommend({ kind: 'for-you', count: 3 });
    expect((await personalizer.status()).modelVersion).toBe(0);
    expect(personalizer.catalog.size).toBe(2);
    expect(files.requests).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('is not fetched under consent none, where no model is used', async () => {
    const files = staticFiles(encodePriorFile(PRIOR));
    const { personalizer } = setup({ consent: 'none', assets: files.transport });
    await personalizer.recommend({ kind: 'for-you', count: 3 });
    expect(files.requests).toEqual([]);
  });

  it('is refused as an option on a platform that cannot fetch it', () => {
    expect(() => setup({ assets: undefined })).toThrow(/prior is set to \/omnipersona-prior\.bin/);
  });

  it('is stored like a server model, and takes over from a model built on the device', async () => {
    const kv = new MemoryKeyValueStore();
    const missing = setup({ kv, assets: staticFiles(() => bytesOf(new Uint8Array(), 503)).transport });
    missing.view('Coffee-0');
    await missing.personalizer.recommend({ kind: 'for-you', count: 3 });
    expect((await missing.personalizer.status()).modelVersion).toBe(0);

    // The next page: the prior is served now, and replaces the stand-in.
    const served = setup({ kv, assets: staticFiles(encodePriorFile(PRIOR)).transport });
    expect(await served.forYou()).toEqual(FAVOURITES);
    expect((await served.personalizer.status()).modelVersion).toBe(7);

    // And the page after: the stored prior is used without fetching it again.
    const files = staticFiles(encodePriorFile(PRIOR));
    const later = setup({ kv, assets: files.transport });
    expect(await later.forYou()).toEqual(FAVOURITES);
    expect(files.requests).toEqual([]);
  });

  it('is replaced by the server model once the server answers, even at the same version, and no update is computed against it', async () => {
    // The server's version 7 is not the prior's version 7 (another database, or one reset since).
    const serverWeights = initialWeights(config, 99);
    let up = false;
    const pushed: Uint8Array[] = [];
    const server: Transport = {
      async request(request) {
        if (!up) throw new TypeError('Failed to fetch');
        if (request.method === 'POST') {
          pushed.push(request.body as Uint8Array);
          return json({ accepted: true, version: 7, pending: 1, roundSize: 20 });
        }
        if (request.path === '/v1/catalog') return json({ version: 4, items: catalogItems });
        if (request.path.startsWith('/v1/model/weights')) return bytesOf(encodeTensors(serverWeights));
        const path = '/v1/model/weights/7';
        const weights = { F32: path, F16: `${path}?dtype=F16`, I8: `${path}?dtype=I8` };
        return json({ version: 7, config, catalogVersion: 4, weights, updates: 0, createdAt: 'now' });
      },
    };
    const { personalizer, runtime, view } = setup({
      consent: 'federated',
      server,
      assets: staticFiles(encodePriorFile(PRIOR)).transport,
    });
    for (const id of ['Coffee-0', 'Coffee-1', 'Coffee-2']) view(id);
    expect((await personalizer.train())?.examples).toBe(2);
    await expect(personalizer.sync()).rejects.toMatchObject({ code: 'NETWORK' });

    up = true;
    const report = await personalizer.sync();
    expect(report).toMatchObject({ pulled: true, pushed: true, modelVersion: 7 });
    // The update is the federated steps on the server's weights minus those weights: the arithmetic
    // runtime's plain-gradient bias step (0.02), not the personal fine-tune's (0.01), and nothing of
    // the difference between the prior and the server model.
    const update = decodeTensors(pushed[0] as Uint8Array);
    expect(pushed).toHaveLength(1);
    expect(update.metadata[UPDATE_METADATA.baseVersion]).toBe('7');
    expect(update.tensors.item_embedding?.data.every((value) => value === 0)).toBe(true);
    expect(Math.max(...(update.tensors.item_bias?.data ?? []))).toBeCloseTo(0.02, 5);
    expect(runtime.trainedWith.slice(-2).map((options) => options.optimizer)).toEqual(['sgd', undefined]);
    // The personal model is the fine-tune from the server's weights alone: the contribution's step is not in it.
    const loaded = await runtime.weights();
    expect([...(loaded.item_embedding?.data ?? [])]).toEqual([...(serverWeights.item_embedding?.data ?? [])]);
    const serverBias = serverWeights.item_bias?.data ?? new Float32Array();
    const personalSteps = (loaded.item_bias?.data ?? new Float32Array()).map(
      (value, row) => value - (serverBias[row] ?? 0),
    );
    expect(Math.max(...personalSteps)).toBeCloseTo(0.01, 5);

    // From now on the server model is the base: the same version is not downloaded again.
    expect((await personalizer.sync()).pulled).toBe(false);
  });

  it('gives no update to send while the model stands on the prior', async () => {
    const runtime = new ArithmeticRuntime();
    const model = new ModelManager({
      kv: new MemoryKeyValueStore(),
      catalog: new Catalog(),
      loadRuntime: async () => runtime,
      prior: async () => PRIOR,
      canPull: () => true,
      canStore: () => true,
      offlineDim: 8,
      weightsDtype: 'F32',
      now: () => 0,
      report: (error) => {
        throw error;
      },
    });
    await model.ready();
    expect(model.version).toBe(7);
    await model.train([{ history: historyInput([], 0), target: 0 }], 100);
    expect(runtime.trained).toHaveLength(1);
    expect(await model.pendingUpdate()).toBeUndefined();
  });
});
