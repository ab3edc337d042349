import { describe, expect, it } from 'vitest';
import type { Transport, TransportRequest } from '../../../src/core/adapters.js';
import { toCatalogItem } from '../../../src/core/catalog.js';
import type { ConsentTier } from '../../../src/core/consent.js';
import { MemoryEventLog, MemoryKeyValueStore } from '../../../src/core/memory-storage.js';
import type { HistoryInput } from '../../../src/core/model/model-runtime.js';
import { initialWeights, PROFILE_INPUTS, signalRow } from '../../../src/core/model/model-spec.js';
import { createCorePersonalizer } from '../../../src/core/personalizer/create-core-personalizer.js';
import { decodeTensors, encodeTensors } from '../../../src/core/sync/tensor-codec.js';
import { ArithmeticRuntime } from './arithmetic-runtime.js';

const CATEGORIES = ['Shoes', 'Coffee', 'Kitchen', 'Outdoor'];
const items = CATEGORIES.flatMap((category) =>
  Array.from({ length: 6 }, (_, i) => ({ id: `${category}-${i}`, name: `${category} ${i}`, category, price: 10 + i })),
);

function setup(consent: ConsentTier = 'on-device', transport?: Transport) {
  const runtime = new ArithmeticRuntime();
  const log = new MemoryEventLog();
  const kv = new MemoryKeyValueStore();
  let clock = 1_700_000_000_000;
  let id = 0;
  const personalizer = createCorePersonalizer(
    { consent, trainAfterEvents: 0, offlineModelDim: 16, ...(transport ? { endpoint: 'http://sync.test' } : {}) },
    {
      log,
      kv,
      ...(transport ? { transport } : {}),
      loadRuntime: async () => runtime,
      scheduleIdle: (task) => task(),
      now: () => (clock += 1000),
      randomId: () => `id-${++id}`,
    },
  );
  return { personalizer, runtime, log, kv };
}

function view(personalizer: ReturnType<typeof setup>['personalizer'], id: string) {
  const item = items.find((candidate) => candidate.id === id);
  return personalizer.track({ type: 'view', item: item ?? { id } });
}

function seedCatalog(personalizer: ReturnType<typeof setup>['personalizer']) {
  const catalog = personalizer.catalog as unknown as { upsert(item: ReturnType<typeof toCatalogItem>): number };
  for (const item of items) catalog.upsert(toCatalogItem(item));
}

describe('personalizer', () => {
  it('stores validated events with identity and session, and refuses malformed ones', async () => {
    const { personalizer, log } = setup();
    view(personalizer, 'Shoes-0');
    expect(() => personalizer.track({ type: 'view', item: { id: '' } })).toThrow(/item\.id/u);
    await personalizer.flush();
    const stored = await log.list();
    expect(stored).toHaveLength(1);
    expect(stored[0]?.anonymousId).toMatch(/^id-/u);
    expect(stored[0]?.sessionId).toMatch(/^id-/u);
    expect(stored[0]?.channel).toBe('web');
  });

  it('stores nothing without consent', async () => {
    const { personalizer, log } = setup('none');
    view(personalizer, 'Shoes-0');
    await personalizer.flush();
    expect(await log.count()).toBe(0);
  });

  it('recommends the category a shopper views, without the items they already saw', async () => {
    const { personalizer } = setup();
    seedCatalog(personalizer);
    for (const id of ['Coffee-0', 'Coffee-1', 'Coffee-2']) view(personalizer, id);
    const recommendations = await personalizer.recommend({ kind: 'for-you', count: 3 });
    expect(recommendations.map((r) => r.item.id).sort()).toEqual(['Coffee-3', 'Coffee-4', 'Coffee-5']);
    expect(recommendations[0]?.reason).toBe('Because you viewed Coffee 2');
    const recent = await personalizer.recommend({ kind: 'recently-viewed', count: 5 });
    expect(recent.map((r) => r.item.id)).toEqual(['Coffee-2', 'Coffee-1', 'Coffee-0']);
  });

  it('reads the anchor of similar as viewed now and of bought-together as purchased now, and the shopper with their profile', async () => {
    const { personalizer, runtime } = setup();
    seedCatalog(personalizer);
    view(personalizer, 'Shoes-0');
    const histories: HistoryInput[] = [];
    const score = runtime.score.bind(runtime);
    runtime.score = (history) => {
      histories.push(history);
      return score(history);
    };
    await personalizer.recommend({ kind: 'similar', item: 'Coffee-1', count: 2 });
    await personalizer.recommend({ kind: 'bought-together', item: 'Coffee-1', count: 2 });
    await personalizer.recommend({ kind: 'for-you', count: 2 });
    const coffee = items.findIndex((item) => item.id === 'Coffee-1');
    expect(histories.map((history) => [...history.items])).toEqual([[coffee], [coffee], [0]]);
    expect(histories.map((history) => [...history.signals])).toEqual([
      [signalRow('view', 0)],
      [signalRow('purchase', 0)],
      [signalRow('view', 1000)],
    ]);
    expect(histories[2]?.profile).toHaveLength(PROFILE_INPUTS);
  });

  it('trains on next-item examples from the log and reports it', async () => {
    const { personalizer, runtime } = setup();
    seedCatalog(personalizer);
    for (const id of ['Shoes-0', 'Shoes-1', 'Shoes-2']) view(personalizer, id);
    const reports: unknown[] = [];
    personalizer.on('trained', (report) => reports.push(report));
    const report = await personalizer.train();
    expect(report?.examples).toBe(2);
    expect(runtime.trained[0]?.map((example) => example.target)).toEqual([1, 2]);
    expect(reports).toHaveLength(1);
    expect((await personalizer.status()).lastTraining?.examples).toBe(2);
  });

  it('scores items seen after the model was built, and trains on them', async () => {
    const { personalizer, runtime } = setup();
    seedCatalog(personalizer);
    view(personalizer, 'Coffee-0');
    view(personalizer, 'Coffee-1');
    await personalizer.train();
    // An item the model has no row for: the shop's page shows it, the shopper views it.
    const fresh = { id: 'Coffee-new', name: 'New coffee', category: 'Coffee', price: 12 };
    (personalizer.catalog as unknown as { upsert(item: unknown): number }).upsert(toCatalogItem(fresh));
    const similar = await personalizer.recommend({ kind: 'similar', item: 'Coffee-0', category: 'Coffee', count: 10 });
    expect(similar.map((pick) => pick.item.id)).toContain('Coffee-new');

    personalizer.track({ type: 'view', item: fresh });
    view(personalizer, 'Coffee-2');
    await personalizer.train();
    const examples = runtime.trained.at(-1) ?? [];
    const row = items.length;
    expect(examples.map((example) => example.target)).toContain(row);
    expect(examples.some((example) => example.history.items.includes(row))).toBe(true);
  });

  it('keeps the rows of items the server model lacks out of what it stores and sends', async () => {
    const catalog = items.map((entry) => toCatalogItem(entry));
    const config = { items: catalog.length, categories: CATEGORIES.length + 1, brands: 1, dim: 4 };
    const transport: Transport = {
      async request(request) {
        const json = (body: unknown) => ({
          status: 200,
          headers: {},
          body: new TextEncoder().encode(JSON.stringify(body)),
        });
        if (request.path === '/v1/catalog') return json({ version: 1, items: catalog });
        if (request.path.startsWith('/v1/model/weights')) {
          return { status: 200, headers: {}, body: encodeTensors(initialWeights(config, 3)) };
        }
        const weights = { F32: '/v1/model/weights/1', F16: '/v1/model/weights/1', I8: '/v1/model/weights/1' };
        return json({ version: 1, config, catalogVersion: 1, weights, updates: 0, createdAt: 'now' });
      },
    };
    const { personalizer, runtime, kv } = setup('on-device', transport);
    const loads: number[] = [];
    const load = runtime.load.bind(runtime);
    runtime.load = (loaded, weights, features) => {
      loads.push(loaded.items);
      expect(weights.item_embedding?.shape[0]).toBe(loaded.items);
      expect(features.categories).toHaveLength(loaded.items);
      return load(loaded, weights, features);
    };
    personalizer.track({ type: 'view', item: { id: 'Local-1', category: 'Coffee', price: 9 } });
    view(personalizer, 'Coffee-0');
    personalizer.track({ type: 'view', item: { id: 'Local-2', category: 'Coffee', price: 11 } });
    await personalizer.train();
    expect(loads.at(-1)).toBe(items.length + 2);
    expect(runtime.trained.at(-1)?.map((example) => example.target)).toEqual([
      catalog.findIndex((item) => item.id === 'Coffee-0'),
      items.length + 1,
    ]);
    const stored = await kv.get<{ personal: Uint8Array; config: { items: number } }>('model');
    expect(stored?.config.items).toBe(items.length);
    expect(decodeTensors(stored?.personal as Uint8Array).tensors.item_embedding?.shape).toEqual([items.length, 4]);
  });

  it('forgets everything', async () => {
    const { personalizer, log, kv } = setup();
    seedCatalog(personalizer);
    view(personalizer, 'Shoes-0');
    view(personalizer, 'Shoes-1');
    await personalizer.train();
    await personalizer.forget();
    expect(await log.count()).toBe(0);
    expect(await kv.get('model')).toBeUndefined();
    expect((await personalizer.profile()).events).toBe(0);
  });

  it('sends nothing but pulls at on-device, and pushes only from federated on', async () => {
    const requests: TransportRequest[] = [];
    const transport: Transport = {
      async request(request) {
        requests.push(request);
        return {
          status: 503,
          headers: {},
          body: new TextEncoder().encode('{"error":{"code":"DOWN","message":"down"}}'),
        };
      },
    };
    const { personalizer } = setup('on-device', transport);
    seedCatalog(personalizer);
    view(personalizer, 'Shoes-0');
    view(personalizer, 'Shoes-1');
    await personalizer.train();
    await expect(personalizer.sync()).rejects.toMatchObject({ code: 'SERVER' });
    expect(requests.every((request) => request.method === 'GET')).toBe(true);
    expect(requests.length).toBeGreaterThan(0);
  });

  it('pushes one update per training even when every update makes a new global version', async () => {
    // A server whose rounds hold one update (as in the demo): each push creates the next version.
    const catalog = items.map((entry) => toCatalogItem(entry));
    const config = { items: catalog.length, categories: CATEGORIES.length + 1, brands: 1, dim: 4 };
    let version = 1;
    let pushes = 0;
    const json = (body: unknown) => ({
      status: 200,
      headers: {},
      body: new TextEncoder().encode(JSON.stringify(body)),
    });
    const transport: Transport = {
      async request(request) {
        if (request.method === 'POST') {
          pushes++;
          version++;
          return json({ accepted: true, version, pending: 0, roundSize: 1 });
        }
        if (request.path === '/v1/catalog') return json({ version: 1, items: catalog });
        if (request.path.startsWith('/v1/model/weights')) {
          return { status: 200, headers: {}, body: encodeTensors(initialWeights(config, version)) };
        }
        const path = `/v1/model/weights/${version}`;
        const weights = { F32: path, F16: `${path}?dtype=F16`, I8: `${path}?dtype=I8` };
        return json({ version, config, catalogVersion: 1, weights, updates: version - 1, createdAt: 'now' });
      },
    };
    const { personalizer } = setup('federated', transport);
    view(personalizer, 'Shoes-0');
    view(personalizer, 'Shoes-1');
    view(personalizer, 'Shoes-2');
    await personalizer.train();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(pushes).toBe(1);
    // More views, another training: its sync pulls the version the first update made, retrains on
    // it and pushes once. Syncing after that retraining would chase its own updates for ever.
    view(personalizer, 'Shoes-3');
    view(personalizer, 'Shoes-4');
    await personalizer.train();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const afterFirst = pushes;
    expect(afterFirst).toBeLessThanOrEqual(3);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(pushes).toBe(afterFirst);
  });
});
