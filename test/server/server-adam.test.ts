import { afterAll, describe, expect, it } from 'vitest';
import type { WeightSet } from '../../src/core/model/weights.js';
import { weightedMean } from '../../src/server/federated-average.js';
import { createSyncServer } from '../../src/server/index.js';
import { ServerAdam } from '../../src/server/server-optimizer.js';
import {
  filledWeights,
  getManifest,
  getWeights,
  makeItems,
  postUpdate,
  quiet,
  type TestDatabase,
  testDatabase,
  updateBody,
} from './helpers.js';

describe('the live server’s Adam over rounds (FedAdam)', () => {
  const databases: TestDatabase[] = [];
  afterAll(() => Promise.all(databases.map((database) => database.remove())));

  it('steps like the simulation’s ServerAdam, and carries its moments across a restart', async () => {
    const database = await testDatabase();
    databases.push(database);
    const options = { ...database.options, roundSize: 2, modelDim: 4, serverLearningRate: 0.01, logger: quiet };
    const rounds = [
      [
        { scale: 0.01, examples: 3 },
        { scale: -0.02, examples: 1 },
      ],
      [
        { scale: 0.03, examples: 2 },
        { scale: 0.01, examples: 2 },
      ],
      [
        { scale: -0.01, examples: 1 },
        { scale: 0.02, examples: 5 },
      ],
    ];
    const delta = (like: WeightSet, scale: number) =>
      Object.fromEntries(
        Object.entries(like).map(([name, tensor]) => [
          name,
          { shape: [...tensor.shape], data: tensor.data.map((_, i) => scale * (((i % 7) - 3) / 3)) },
        ]),
      );

    let server = await createSyncServer(options);
    await server.importCatalog(makeItems(5));
    let { url } = await server.listen({ port: 0 });
    const start = await getManifest(url);
    let expected = (await getWeights(url, start)).tensors;
    const reference = new ServerAdam({ learningRate: 0.01 });

    for (const [index, round] of rounds.entries()) {
      if (index === 2) {
        // A restart between rounds: the next round goes on from the stored moments.
        await server.close();
        server = await createSyncServer(options);
        ({ url } = await server.listen({ port: 0 }));
      }
      const manifest = await getManifest(url);
      const updates = round.map(({ scale, examples }) => ({ delta: delta(expected, scale), examples }));
      for (const update of updates) {
        const body = updateBody(update.delta, manifest.version, update.examples);
        expect((await postUpdate(url, body)).status).toBe(200);
      }
      expected = reference.step(expected, weightedMean(expected, updates) as WeightSet);
      const served = (await getWeights(url, await getManifest(url))).tensors;
      for (const [name, tensor] of Object.entries(expected)) {
        Array.from(served[name]?.data ?? [], (value, i) =>
          expect(value, `round ${index + 1}, ${name}[${i}]`).toBeCloseTo(tensor.data[i] as number, 6),
        );
      }
    }
    expect((await getManifest(url)).version).toBe(start.version + 3);
    await server.close();
  });

  it('starts its moments afresh on a version it did not make (a grown catalog)', async () => {
    const database = await testDatabase();
    databases.push(database);
    const server = await createSyncServer({ ...database.options, roundSize: 1, modelDim: 4, logger: quiet });
    try {
      await server.importCatalog(makeItems(3));
      const { url } = await server.listen({ port: 0 });
      const first = await getManifest(url);
      const step = filledWeights(first.config, () => 0.01);
      expect((await postUpdate(url, updateBody(step, first.version, 1))).status).toBe(200);
      await server.importCatalog(makeItems(4));
      const grown = await getManifest(url);
      const before = (await getWeights(url, grown)).tensors;
      const next = filledWeights(grown.config, () => 0.01);
      expect((await postUpdate(url, updateBody(next, grown.version, 1))).status).toBe(200);
      const after = (await getWeights(url, await getManifest(url))).tensors;
      // A fresh Adam's first step moves each weight by its rate against the gradient: +0.02 here.
      const moved = (after.item_bias?.data[3] ?? 0) - (before.item_bias?.data[3] ?? 0);
      expect(moved).toBeCloseTo(0.02, 5);
    } finally {
      await server.close();
    }
  });
});
