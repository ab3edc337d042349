import { afterAll, describe, expect, it } from 'vitest';
import { createSyncServer } from '../../src/server/index.js';
import {
  filledWeights,
  getManifest,
  makeItems,
  postUpdate,
  quiet,
  type TestDatabase,
  testDatabase,
  updateBody,
} from './helpers.js';

describe('persistence', () => {
  const databases: TestDatabase[] = [];
  afterAll(() => Promise.all(databases.map((database) => database.remove())));

  it('keeps the catalog, the models and the pending round across a restart on the same database', async () => {
    const database = await testDatabase();
    databases.push(database);
    const options = { ...database.options, roundSize: 2, modelDim: 4, logger: quiet };

    const first = await createSyncServer(options);
    await first.importCatalog(makeItems(5));
    const before = await first.listen({ port: 0 });
    const manifest = await getManifest(before.url);
    const weights = await (await fetch(`${before.url}${manifest.weights.F32}`)).arrayBuffer();
    const delta = filledWeights(manifest.config, () => 0.01);
    expect((await postUpdate(before.url, updateBody(delta, manifest.version, 1))).status).toBe(200);
    // Overlapping shutdown paths (a signal handler and a finally block) must not fail.
    await Promise.all([first.close(), first.close()]);
    await first.close();

    const second = await createSyncServer(options);
    try {
      const after = await second.listen({ port: 0 });
      expect(await getManifest(after.url)).toEqual(manifest);
      const catalog = (await (await fetch(`${after.url}/v1/catalog`)).json()) as { version: number; items: unknown[] };
      expect([catalog.version, catalog.items.length]).toEqual([1, 5]);
      const again = await (await fetch(`${after.url}${manifest.weights.F32}`)).arrayBuffer();
      expect(Buffer.from(again).equals(Buffer.from(weights))).toBe(true);
      // The update sent before the restart still counts towards the round.
      const receipt = await (await postUpdate(after.url, updateBody(delta, manifest.version, 1))).json();
      expect(receipt).toMatchObject({ version: manifest.version + 1, pending: 0 });
    } finally {
      await second.close();
    }
  });
});
