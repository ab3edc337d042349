import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initialWeights } from '../../src/core/model/model-spec.js';
import { decodeTensors, encodeTensors } from '../../src/core/sync/tensor-codec.js';
import { federatedAverage, withStep } from '../../src/server/federated-average.js';
import { type PendingUpdate, type RoundPolicy, type SqlClient, SqlSyncStore } from '../../src/server/index.js';
import { inlineUpdateProcessor } from '../../src/server/update-processing.js';
import { filledWeights, TEST_STORE, type TestDatabase, testDatabase } from './helpers.js';

const config = { items: 3, categories: 2, brands: 1, dim: 2 };
/** Weighted by examples, applied as the plain mean. */
const policy: RoundPolicy = {
  size: 4,
  noiseMultiplier: 0,
  maxStaleness: 0,
  sum: (shape, updates) =>
    inlineUpdateProcessor.sum(
      shape,
      updates.map((update) => ({ encoded: update.encoded, weight: update.examples })),
    ),
  aggregate: (base, round) => {
    const mean = round.mean();
    return { weights: mean ? withStep(base, mean) : base };
  },
};
const rounds = { noisy: 0, plain: 0, privacyLoss: 0 };

describe(`SqlSyncStore (${TEST_STORE})`, () => {
  let database: TestDatabase;
  let store: SqlSyncStore;
  beforeAll(async () => {
    database = await testDatabase();
    store = await SqlSyncStore.open(await database.connect());
    await store.commit(() => ({ model: { config, weights: initialWeights(config), updates: 0, rounds } }));
  });
  afterAll(async () => {
    await store.close();
    await database.remove();
  });

  it('numbers versions from 1 and stores the weights in F32 form', async () => {
    const model = await store.currentModel();
    expect(model).toMatchObject({ version: 1, config, catalogVersion: 0, updates: 0 });
    expect(model?.digest).toMatch(/^[0-9a-f]{64}$/);
    expect((await store.modelWeights(1))?.length).toBeGreaterThan(0);
    expect(await store.modelWeights(2)).toBeUndefined();
  });

  it('rechecks the base under the lock: of concurrent updates, one round is aggregated and the rest are stale', async () => {
    const encoded = encodeTensors(filledWeights(config, () => 0.5));
    const results = await Promise.allSettled(
      Array.from({ length: 7 }, () => store.submitUpdate({ baseVersion: 1, examples: 2, encoded }, policy)),
    );
    const fulfilled = results.filter((result) => result.status === 'fulfilled');
    const codes = results.flatMap((result) => (result.status === 'rejected' ? [result.reason.code] : []));
    expect(fulfilled.map((result) => result.value.pending).sort()).toEqual([0, 1, 2, 3]);
    expect(codes).toEqual(['STALE_UPDATE', 'STALE_UPDATE', 'STALE_UPDATE']);
    expect(await store.currentModel()).toMatchObject({
      version: 2,
      updates: 4,
      rounds: { noisy: 0, plain: 1, privacyLoss: 0 },
    });
  });

  it('refuses a base version that never existed', async () => {
    const encoded = encodeTensors(filledWeights(config, () => 0));
    await expect(store.submitUpdate({ baseVersion: 9, examples: 1, encoded }, policy)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('rolls a failed write back completely', async () => {
    await expect(
      store.commit(() => ({
        catalog: [{ id: 'a', category: [] }],
        // An integer column refuses 0.5, after the catalog row is written.
        model: { config, weights: initialWeights(config), updates: 0.5, rounds },
      })),
    ).rejects.toThrow();
    expect(await store.currentCatalog()).toBeUndefined();
    expect((await store.currentModel())?.version).toBe(2);
  });

  it('pages a shopper’s log by whole writes, and resumes from any version', async () => {
    const event = (id: string, time: number) => ({
      id,
      type: 'view' as const,
      time,
      sessionId: 's',
      channel: 'web',
      item: { id: `sku-${id}` },
    });
    const versions: number[] = [];
    for (const write of [0, 1, 2, 3]) {
      const events = [0, 1, 2].map((i) => event(`${write}-${i}`, write * 10 + i));
      versions.push((await store.appendShopperEvents('paged', events, 100)).version);
    }
    // Pages of at most 5 events: one write of 3 fits, a second would be cut, so it waits for the next page.
    const first = await store.shopperEvents('paged', 0, 5);
    expect(first.events.map((e) => e.id)).toEqual(['0-0', '0-1', '0-2']);
    expect(first).toMatchObject({ version: versions[0], more: true });
    const second = await store.shopperEvents('paged', first.version, 6);
    expect(second.events.map((e) => e.id)).toEqual(['1-0', '1-1', '1-2', '2-0', '2-1', '2-2']);
    expect(second).toMatchObject({ version: versions[2], more: true });
    const last = await store.shopperEvents('paged', second.version, 6);
    expect(last).toMatchObject({ version: versions[3], more: false });
    expect(last.events.map((e) => e.id)).toEqual(['3-0', '3-1', '3-2']);
    expect(await store.shopperEvents('paged', last.version, 6)).toEqual({
      events: [],
      version: versions[3],
      more: false,
    });
    expect(await store.forgetShopper('paged')).toBe(true);
    expect(await store.forgetShopper('paged')).toBe(false);
  });
});

describe(`SqlSyncStore under load (${TEST_STORE})`, () => {
  let database: TestDatabase;
  let store: SqlSyncStore;
  let transactions = 0;
  beforeAll(async () => {
    database = await testDatabase();
    const sql = await database.connect();
    const counting: SqlClient = {
      query: (text, params) => sql.query(text, params),
      transaction: (work) => {
        transactions++;
        return sql.transaction(work);
      },
      close: () => sql.close(),
    };
    store = await SqlSyncStore.open(counting, { keepModelVersions: 2 });
    await store.commit(() => ({ model: { config, weights: initialWeights(config), updates: 0, rounds } }));
  });
  afterAll(async () => {
    await store.close();
    await database.remove();
  });

  it('writes a burst of concurrent updates in a few transactions, each counted once and in order', async () => {
    const encoded = encodeTensors(filledWeights(config, () => 0.1));
    transactions = 0;
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, () =>
        store.submitUpdate({ baseVersion: 1, examples: 1, encoded }, { ...policy, size: 100 }),
      ),
    );
    expect(outcomes.map((outcome) => outcome.pending).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    // The first update starts a transaction alone; the 39 that arrive meanwhile share the next.
    expect(transactions).toBeLessThanOrEqual(3);
  });

  it('keeps the weights of the most recent versions only, and their records', async () => {
    const encoded = encodeTensors(filledWeights(config, () => 0.01));
    for (let round = 0; round < 3; round++) {
      const { version } = (await store.currentModel()) as { version: number };
      await store.submitUpdate({ baseVersion: version, examples: 1, encoded }, { ...policy, size: 1 });
    }
    const current = (await store.currentModel())?.version as number;
    expect(current).toBe(4);
    expect(await store.modelWeights(current)).toBeDefined();
    expect(await store.modelWeights(current - 1)).toBeDefined();
    expect(await store.modelWeights(current - 2)).toBeUndefined();
    expect(await store.model(1)).toMatchObject({ version: 1, config });
  });
});

describe(`SqlSyncStore round parts (${TEST_STORE})`, () => {
  let database: TestDatabase;
  let sql: SqlClient;
  let store: SqlSyncStore;
  // Large enough that an update's data, not its header, sets its size.
  const config = { items: 300, categories: 4, brands: 3, dim: 8 };
  beforeAll(async () => {
    database = await testDatabase();
    sql = await database.connect();
    store = await SqlSyncStore.open(sql);
    await store.commit(() => ({ model: { config, weights: initialWeights(config), updates: 0, rounds } }));
  });
  afterAll(async () => {
    await store.close();
    await database.remove();
  });

  it('stores a round in parts, each update as received or a sum of many, and aggregates it as if whole', async () => {
    const { version } = (await store.currentModel()) as { version: number };
    const base = decodeTensors((await store.modelWeights(version)) as Uint8Array).tensors;
    // Int8 updates as devices send them: one alone is stored as it came; twenty together take more
    // than three times a dense sum's bytes, and are stored as their sum.
    const updates: PendingUpdate[] = Array.from({ length: 22 }, (_, i) => {
      const encoded = encodeTensors(
        filledWeights(config, (index) => Math.sin(i * 7 + index) / 10),
        {},
        'I8',
      );
      return { baseVersion: version, examples: 1 + (i % 3), encoded };
    });
    const round = { ...policy, size: updates.length };
    await store.submitUpdate(updates[0] as PendingUpdate, round);
    await Promise.all(updates.slice(1, 21).map((update) => store.submitUpdate(update, round)));
    const count = async (table: string) =>
      ((await sql.query<{ n: number }>(`SELECT count(*)::integer AS n FROM ${table}`))[0] as { n: number }).n;
    expect(await count('omnipersona_pending_updates')).toBeGreaterThanOrEqual(1);
    expect(await count('omnipersona_round_sums')).toBeGreaterThanOrEqual(1);
    expect(await store.submitUpdate(updates[21] as PendingUpdate, round)).toEqual({ version: version + 1, pending: 0 });

    await expectAverage(store, version + 1, base, updates);
    expect(await count('omnipersona_pending_updates')).toBe(0);
    expect(await count('omnipersona_round_sums')).toBe(0);
  });

  it.each([
    ['', false],
    [', its rows read back when a sum fails', true],
  ])('sums a round’s stored updates while it fills, and aggregates it as if summed at the end%s', async (_, fail) => {
    const { version } = (await store.currentModel()) as { version: number };
    const base = decodeTensors((await store.modelWeights(version)) as Uint8Array).tensors;
    const updates: PendingUpdate[] = Array.from({ length: 150 }, (_, i) => ({
      baseVersion: version,
      examples: 1 + (i % 4),
      encoded: encodeTensors(
        filledWeights(config, (index) => Math.cos(i * 3 + index) / 10),
        {},
        'I8',
      ),
    }));
    // The store sums whenever 64 committed rows wait; the sizes of the sums it asks for tell when.
    const sizes: number[] = [];
    const round: RoundPolicy = {
      ...policy,
      size: updates.length,
      sum: (shape, list) => {
        sizes.push(list.length);
        // The first sum ahead fails, as when a worker dies: its rows are left to the aggregation.
        if (fail && sizes.length === 1) return Promise.reject(new Error('worker stopped'));
        return policy.sum(shape, list);
      },
    };
    // Writes of five, each its own transaction and stored as received.
    for (let start = 0; start < 140; start += 5) {
      await Promise.all(updates.slice(start, start + 5).map((update) => store.submitUpdate(update, round)));
    }
    expect(sizes).toEqual([64, 64]);
    await Promise.all(updates.slice(140, 145).map((update) => store.submitUpdate(update, round)));
    await Promise.all(updates.slice(145, 149).map((update) => store.submitUpdate(update, round)));
    expect(await store.submitUpdate(updates[149] as PendingUpdate, round)).toEqual({
      version: version + 1,
      pending: 0,
    });
    // The aggregation summed only the 22 updates not summed yet (21 stored, 1 in its own write), and
    // the 64 of a sum that failed.
    expect(sizes).toEqual([64, 64, fail ? 86 : 22]);

    await expectAverage(store, version + 1, base, updates);
  });

  it('reads an older version’s record inside the write that needs it', async () => {
    // A store that has read no version records yet, as after a restart, on the same database (not
    // closed here: it shares the connection).
    const fresh = await SqlSyncStore.open(sql);
    const { version } = (await fresh.currentModel()) as { version: number };
    const encoded = encodeTensors(
      filledWeights(config, () => 0.01),
      {},
      'I8',
    );
    expect(await fresh.submitUpdate({ baseVersion: version, examples: 1, encoded }, { ...policy, size: 1 })).toEqual({
      version: version + 1,
      pending: 0,
    });
    // A version behind: the write compares its base's shape with the current one's. On the embedded
    // database, reading that record outside the write's transaction would wait for the write forever.
    const late = { baseVersion: version, examples: 1, encoded };
    expect(await fresh.submitUpdate(late, { ...policy, size: 2, maxStaleness: 1 })).toEqual({
      version: version + 1,
      pending: 1,
    });
    const current = { baseVersion: version + 1, examples: 1, encoded };
    expect(await fresh.submitUpdate(current, { ...policy, size: 2 })).toEqual({ version: version + 2, pending: 0 });
  });

  it('retries an aggregation that failed after its sum took the updates over, reading them back', async () => {
    const { version } = (await store.currentModel()) as { version: number };
    const base = decodeTensors((await store.modelWeights(version)) as Uint8Array).tensors;
    const updates: PendingUpdate[] = Array.from({ length: 3 }, (_, i) => ({
      baseVersion: version,
      examples: 1 + i,
      encoded: encodeTensors(
        filledWeights(config, (index) => Math.cos(i * 5 + index) / 10),
        {},
        'I8',
      ),
    }));
    const expected = federatedAverage(
      base,
      updates.map((update) => ({ delta: decodeTensors(update.encoded).tensors, examples: update.examples })),
    );
    let failures = 1;
    const round: RoundPolicy = {
      ...policy,
      size: updates.length,
      // As the update workers do: each part's buffer moves away, leaving the caller's empty.
      sum: (shape, parts) =>
        policy.sum(
          shape,
          parts.map((part) => ({
            ...part,
            encoded: structuredClone(part.encoded, { transfer: [part.encoded.buffer] }),
          })),
        ),
      aggregate: (weights, sums, optimizer) => {
        if (failures-- > 0) throw new Error('the aggregation failed');
        return policy.aggregate(weights, sums, optimizer);
      },
    };
    for (const update of updates.slice(0, 2)) await store.submitUpdate(update, round);
    const last = updates[2] as PendingUpdate;
    await expect(store.submitUpdate({ ...last, encoded: last.encoded.slice() }, round)).rejects.toThrow(
      'the aggregation failed',
    );
    expect(await store.currentModel()).toMatchObject({ version });
    expect(await store.submitUpdate(last, round)).toEqual({ version: version + 1, pending: 0 });
    const weights = decodeTensors((await store.modelWeights(version + 1)) as Uint8Array).tensors;
    for (const [name, tensor] of Object.entries(expected)) {
      tensor.data.forEach((value, i) => {
        expect(weights[name]?.data[i]).toBeCloseTo(value, 6);
      });
    }
  });
});

/** Expects `version`'s weights to be `base` plus the weighted mean of `updates`. */
async function expectAverage(
  store: SqlSyncStore,
  version: number,
  base: Record<string, { shape: number[]; data: Float32Array }>,
  updates: readonly PendingUpdate[],
): Promise<void> {
  const expected = federatedAverage(
    base,
    updates.map((update) => ({ delta: decodeTensors(update.encoded).tensors, examples: update.examples })),
  );
  const weights = decodeTensors((await store.modelWeights(version)) as Uint8Array).tensors;
  for (const [name, tensor] of Object.entries(expected)) {
    tensor.data.forEach((value, i) => {
      expect(weights[name]?.data[i]).toBeCloseTo(value, 6);
    });
  }
}
