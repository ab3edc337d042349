import { describe, expect, it } from 'vitest';
import type { KeyValueStore, Transport, TransportResponse } from '../../../src/core/adapters.js';
import { type CatalogItem, toCatalogItem } from '../../../src/core/catalog.js';
import type { ConsentTier } from '../../../src/core/consent.js';
import type { OmniPersonaError } from '../../../src/core/errors.js';
import { MemoryEventLog, MemoryKeyValueStore } from '../../../src/core/memory-storage.js';
import { initialWeights, type ModelConfig } from '../../../src/core/model/model-spec.js';
import type { WeightSet } from '../../../src/core/model/weights.js';
import { createCorePersonalizer } from '../../../src/core/personalizer/create-core-personalizer.js';
import { encodePriorFile } from '../../../src/core/sync/prior-file.js';
import type { CoVisitRows } from '../../../src/core/sync/protocol.js';
import { encodeTensors } from '../../../src/core/sync/tensor-codec.js';
import { ArithmeticRuntime } from './arithmetic-runtime.js';

const CATEGORIES = ['Shoes', 'Coffee', 'Kitchen'];
const items: CatalogItem[] = CATEGORIES.flatMap((category) =>
  Array.from({ length: 5 }, (_, i) => toCatalogItem({ id: `${category}-${i}`, name: `${category} ${i}`, category })),
);
const config: ModelConfig = { items: items.length, categories: CATEGORIES.length + 1, brands: 1, dim: 4 };
const row = (id: string) => items.findIndex((item) => item.id === id);
/** What the model alone ranks first, whatever the shopper viewed. */
const FAVOURITES = ['Kitchen-4', 'Shoes-3', 'Coffee-1'];

function weights(): WeightSet {
  const set = initialWeights(config, 5);
  const bias = set.item_bias?.data as Float32Array;
  FAVOURITES.forEach((id, rank) => {
    bias[row(id)] = 3 - rank;
  });
  return set;
}

/** Co-visits by id, as the server's document carries them (by index into its items). */
function coVisits(table: Record<string, Array<[string, number]>>): CoVisitRows {
  const rows: CoVisitRows = items.map(() => []);
  for (const [from, pairs] of Object.entries(table)) rows[row(from)] = pairs.map(([to, w]) => [row(to), w]);
  return rows;
}

/** Shoppers who viewed Coffee-0 went on to Shoes-0 and Kitchen-2 more than the model's favourites weigh. */
const PUBLISHED = coVisits({
  'Coffee-0': [
    ['Shoes-0', 40],
    ['Kitchen-2', 12],
  ],
});

const bytesOf = (body: Uint8Array, status = 200): TransportResponse => ({ status, headers: {}, body });
const json = (body: unknown, headers: Record<string, string> = {}) => ({
  ...bytesOf(new TextEncoder().encode(JSON.stringify(body))),
  headers,
});

/** A sync server whose catalog (version, co-visits) the test changes; the model stays version 3. */
function syncServer() {
  const state = { catalogVersion: 1, coVisits: PUBLISHED as unknown, up: true, requests: [] as string[] };
  const transport: Transport = {
    async request(request) {
      state.requests.push(`${request.method} ${request.path}`);
      if (!state.up) throw new TypeError('Failed to fetch');
      if (request.path === '/v1/catalog') {
        return json({ version: state.catalogVersion, items, ...(state.coVisits ? { coVisits: state.coVisits } : {}) });
      }
      if (request.path.startsWith('/v1/model/weights')) return bytesOf(encodeTensors(weights()));
      const path = '/v1/model/weights/3';
      const manifest = {
        version: 3,
        config,
        catalogVersion: 1,
        latestCatalogVersion: state.catalogVersion,
        weights: { F32: path, F16: path, I8: path },
        updates: 0,
        createdAt: 'now',
      };
      const etag = `"m3-c${state.catalogVersion}"`;
      if (request.headers?.['if-none-match'] === etag) return bytesOf(new Uint8Array(), 304);
      return json(manifest, { etag });
    },
  };
  return { state, transport };
}

function setup(
  options: { server?: Transport; kv?: KeyValueStore; prior?: Uint8Array; consent?: ConsentTier; runtime?: false } = {},
) {
  let clock = 1_700_000_000_000;
  let id = 0;
  const prior = options.prior;
  const personalizer = createCorePersonalizer(
    {
      consent: options.consent ?? 'on-device',
      trainAfterEvents: 0,
      syncAfterTraining: false,
      weightsDtype: 'F32',
      ...(options.server ? { endpoint: 'http://sync.test' } : {}),
      ...(prior ? { prior: '/prior.bin' } : {}),
    },
    {
      log: new MemoryEventLog(),
      kv: options.kv ?? new MemoryKeyValueStore(),
      ...(options.server ? { transport: options.server } : {}),
      ...(prior ? { assets: { request: async () => bytesOf(prior) } } : {}),
      loadRuntime: async () => {
        if (options.runtime === false) throw new Error('The ML chunk could not be loaded');
        return new ArithmeticRuntime();
      },
      scheduleIdle: () => {},
      now: () => (clock += 1000),
      randomId: () => `id-${++id}`,
    },
  );
  const errors: OmniPersonaError[] = [];
  personalizer.on('error', (error) => errors.push(error));
  const view = (itemId: string) => personalizer.track({ type: 'view', item: { id: itemId } });
  const picks = async (kind: 'for-you' | 'bought-together' | 'trending', item?: string) => {
    // The catalog comes with the model: load it before asking about an item.
    if (item) await personalizer.recommend({ kind: 'trending', count: 1 });
    return (await personalizer.recommend({ kind, count: 3, ...(item ? { item } : {}) })).map((pick) => pick.item.id);
  };
  return { personalizer, errors, view, picks };
}

describe('co-visits in recommendations', () => {
  it('rank the neighbours of the shopper’s newest item first in for-you, with their reason', async () => {
    const { personalizer, view, picks, errors } = setup({ server: syncServer().transport });
    view('Shoes-1');
    view('Coffee-0');
    expect(await picks('for-you')).toEqual(['Shoes-0', 'Kitchen-2', 'Kitchen-4']);
    const [first, , third] = await personalizer.recommend({ kind: 'for-you', count: 3 });
    expect(first?.reason).toBe('Shoppers who viewed Coffee 0 went on to this');
    expect(third?.reason).toBe('Popular right now');
    expect(errors).toEqual([]);
  });

  it('rank the anchor’s neighbours first in bought-together, and leave trending as the model ranks it', async () => {
    const { picks } = setup({ server: syncServer().transport });
    expect(await picks('bought-together', 'Coffee-0')).toEqual(['Shoes-0', 'Kitchen-2', 'Kitchen-4']);
    expect(await picks('bought-together', 'Coffee-2')).toEqual(FAVOURITES);
    expect(await picks('trending')).toEqual(FAVOURITES);
  });

  it('follow only the newest items: co-visits of an item viewed long before count for little', async () => {
    const { view, picks } = setup({ server: syncServer().transport });
    view('Coffee-0');
    for (const id of ['Coffee-2', 'Coffee-3', 'Coffee-4']) view(id);
    expect(await picks('for-you')).toEqual(FAVOURITES);
  });

  it('still rank the neighbours first when the model cannot load and category interest ranks the rest', async () => {
    const { picks, errors } = setup({ server: syncServer().transport, runtime: false });
    expect((await picks('bought-together', 'Coffee-0')).slice(0, 2)).toEqual(['Shoes-0', 'Kitchen-2']);
    expect(errors.map((error) => error.code)).toContain('MODEL_UNAVAILABLE');
  });

  it('are kept with the catalog: a reload with the server unreachable still uses them', async () => {
    const kv = new MemoryKeyValueStore();
    const server = syncServer();
    const first = setup({ server: server.transport, kv });
    expect(await first.picks('bought-together', 'Coffee-0')).toEqual(['Shoes-0', 'Kitchen-2', 'Kitchen-4']);
    server.state.up = false;
    const offline = setup({ server: server.transport, kv });
    expect(await offline.picks('bought-together', 'Coffee-0')).toEqual(['Shoes-0', 'Kitchen-2', 'Kitchen-4']);
  });

  it('come from the prior file when the server cannot be reached', async () => {
    const server = syncServer();
    server.state.up = false;
    const prior = encodePriorFile({
      version: 3,
      catalogVersion: 1,
      config,
      items,
      coVisits: PUBLISHED,
      weights: weights(),
    });
    const { picks } = setup({ server: server.transport, prior });
    expect(await picks('bought-together', 'Coffee-0')).toEqual(['Shoes-0', 'Kitchen-2', 'Kitchen-4']);
  });

  it('are refreshed with a newer catalog at the same model version, without retraining', async () => {
    const server = syncServer();
    const { personalizer, picks } = setup({ server: server.transport });
    expect(await picks('bought-together', 'Coffee-2')).toEqual(FAVOURITES);
    server.state.catalogVersion = 2;
    server.state.coVisits = coVisits({ 'Coffee-2': [['Kitchen-0', 30]] });
    const report = await personalizer.sync();
    expect(report).toMatchObject({ pulled: false, modelVersion: 3 });
    expect(await picks('bought-together', 'Coffee-2')).toEqual(['Kitchen-0', ...FAVOURITES.slice(0, 2)]);
    expect(await picks('bought-together', 'Coffee-0')).toEqual(FAVOURITES);
    // Once current, the manifest answers 304 and nothing more is fetched.
    const before = server.state.requests.length;
    await personalizer.sync();
    expect(server.state.requests.slice(before)).toEqual(['GET /v1/model']);
  });

  it('that are tampered with are refused, and recommendations go on with what the device had', async () => {
    const server = syncServer();
    const { personalizer, picks } = setup({ server: server.transport });
    expect(await picks('bought-together', 'Coffee-0')).toEqual(['Shoes-0', 'Kitchen-2', 'Kitchen-4']);
    for (const tampered of [
      [[[items.length, 5]]],
      [[[1, -5]]],
      [Array.from({ length: 201 }, (_, i) => [i % items.length, 1])],
      'Coffee-0 → Shoes-0',
    ]) {
      server.state.catalogVersion++;
      server.state.coVisits = tampered;
      await expect(personalizer.sync()).rejects.toMatchObject({ code: 'SERVER', message: /catalog is malformed/u });
      expect(await picks('bought-together', 'Coffee-0')).toEqual(['Shoes-0', 'Kitchen-2', 'Kitchen-4']);
    }
  });

  it('that are tampered with at the first load leave the device on a model of its own, recommending', async () => {
    const server = syncServer();
    server.state.coVisits = [[[items.length, 5]]];
    const { personalizer, view, picks } = setup({ server: server.transport });
    view('Coffee-0');
    view('Kitchen-1');
    expect(await picks('bought-together', 'Coffee-0')).toEqual(['Kitchen-1']);
    expect((await personalizer.status()).modelVersion).toBe(0);
  });
});
