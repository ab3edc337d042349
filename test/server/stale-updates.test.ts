import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../src/core/model/model-spec.js';
import {
  expectError,
  filledWeights,
  getManifest,
  getWeights,
  makeItems,
  postUpdate,
  type Running,
  startServer,
  updateBody,
} from './helpers.js';

describe('stale updates', () => {
  let running: Running;
  let url: string;
  let config: ModelConfig;
  beforeAll(async () => {
    running = await startServer({ roundSize: 2, modelDim: 4, maxStaleness: 1, serverOptimizer: 'mean' });
    url = running.url;
    await running.server.importCatalog(makeItems(6));
    config = (await getManifest(url)).config;
  });
  afterAll(() => running.stop());

  it('joins the current round down-weighted by its lag, and is refused once too old or of another shape', async () => {
    const first = await getManifest(url);
    const zero = filledWeights(config, () => 0);
    // A round at the first version makes the second.
    for (let i = 0; i < 2; i++) expect((await postUpdate(url, updateBody(zero, first.version, 1))).status).toBe(200);
    const second = await getManifest(url);
    expect(second.version).toBe(first.version + 1);
    const before = (await getWeights(url, second)).tensors;

    // One update a version behind (4 examples, weighed 4 / 2) and one current (2 examples).
    const late = filledWeights(config, () => 0.3);
    const fresh = filledWeights(config, () => -0.3);
    const held = await postUpdate(url, updateBody(late, first.version, 4));
    expect(await held.json()).toMatchObject({ accepted: true, version: second.version, pending: 1 });
    expect((await postUpdate(url, updateBody(fresh, second.version, 2))).status).toBe(200);
    const third = await getManifest(url);
    expect(third.version).toBe(second.version + 1);
    const after = (await getWeights(url, third)).tensors;
    // (2 × 0.3 + 2 × −0.3) / (2 + 2) = 0: equal weights after the late one's is halved.
    expect(after.item_bias?.data.length).toBe(config.items);
    for (const [i, value] of (after.item_bias?.data ?? []).entries()) {
      expect(value).toBeCloseTo(before.item_bias?.data[i] ?? 0, 6);
    }

    // Two versions behind: refused.
    await expectError(await postUpdate(url, updateBody(zero, first.version, 1)), 409, 'STALE_UPDATE');

    // A grown catalog makes a version of another shape: an update from before it no longer fits.
    await running.server.importCatalog(makeItems(8));
    const grown = await getManifest(url);
    expect(grown.config.items).toBeGreaterThan(config.items);
    await expectError(await postUpdate(url, updateBody(zero, third.version, 1)), 409, 'STALE_UPDATE');
    expect((await getManifest(url)).version).toBe(grown.version);
    // The server last saw a round at the third version: updates on the grown one are checked
    // against the grown shape, and one of the old shape on it is refused.
    await expectError(await postUpdate(url, updateBody(zero, grown.version, 1)), 400, 'INVALID_PAYLOAD');
    const onGrown = await postUpdate(
      url,
      updateBody(
        filledWeights(grown.config, () => 0.1),
        grown.version,
        1,
      ),
    );
    expect(await onGrown.json()).toMatchObject({ accepted: true, version: grown.version, pending: 1 });
  });
});
