import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFetchTransport } from '../../src/browser/fetch-transport.js';
import type { Transport } from '../../src/core/adapters.js';
import { weightsNorm } from '../../src/core/model/weights.js';
import { decodeTensors } from '../../src/core/sync/tensor-codec.js';
import { gaussianEpsilon } from '../../src/server/privacy-accountant.js';
import { ArithmeticRuntime } from '../unit/core/arithmetic-runtime.js';
import { item, setupPersonalizer } from '../unit/core/setup-personalizer.js';
import { filledWeights, getManifest, makeItems, postUpdate, type Running, startServer, updateBody } from './helpers.js';

describe('DP-FedAvg on the server', () => {
  let noisy: Running;
  let plain: Running;
  beforeAll(async () => {
    [noisy, plain] = await Promise.all([
      startServer({ roundSize: 2, modelDim: 4, maxUpdateNorm: 0.5, noiseMultiplier: 1.2 }),
      startServer({ roundSize: 2, modelDim: 4, maxUpdateNorm: 0.5 }),
    ]);
    await Promise.all([noisy.server.importCatalog(makeItems(6)), plain.server.importCatalog(makeItems(6))]);
  });
  afterAll(() => Promise.all([noisy.stop(), plain.stop()]));

  async function round(url: string) {
    const manifest = await getManifest(url);
    const delta = filledWeights(manifest.config, (i) => (i % 3) / 50);
    for (const examples of [1, 7])
      expect((await postUpdate(url, updateBody(delta, manifest.version, examples))).status).toBe(200);
  }

  it('reports its settings and the ε a shopper in every round has spent, round after round', async () => {
    const before = await getManifest(noisy.url);
    expect(before.privacy).toEqual({
      clipNorm: 0.5,
      noiseMultiplier: 1.2,
      delta: 1e-5,
      rounds: 0,
      noisyRounds: 0,
      epsilon: 0,
    });
    await round(noisy.url);
    const one = (await getManifest(noisy.url)).privacy;
    expect(one).toMatchObject({ rounds: 1, noisyRounds: 1 });
    expect(one?.epsilon).toBeCloseTo(gaussianEpsilon({ noiseMultiplier: 1.2, rounds: 1, delta: 1e-5 }), 9);
    await round(noisy.url);
    const two = (await getManifest(noisy.url)).privacy;
    expect(two?.epsilon).toBeCloseTo(gaussianEpsilon({ noiseMultiplier: 1.2, rounds: 2, delta: 1e-5 }), 9);
    expect(two?.epsilon).toBeGreaterThan(one?.epsilon ?? Number.POSITIVE_INFINITY);
  });

  it('states no ε once a round was aggregated without noise', async () => {
    expect((await getManifest(plain.url)).privacy?.epsilon).toBe(0);
    await round(plain.url);
    expect((await getManifest(plain.url)).privacy).toMatchObject({ rounds: 1, noisyRounds: 0, epsilon: null });
  });

  it('has devices clip their update to the server’s bound before it leaves them', async () => {
    const sent: Uint8Array[] = [];
    const http = createFetchTransport(plain.url);
    const transport: Transport = {
      request(request) {
        if (request.path === '/v1/updates' && request.body instanceof Uint8Array) sent.push(request.body);
        return http.request(request);
      },
    };
    const runtime = new ArithmeticRuntime();
    const device = setupPersonalizer(
      { consent: 'federated', endpoint: plain.url },
      { transport, loadRuntime: async () => runtime },
    );
    // Many events of few items: the stand-in runtime's update grows with them, past the bound.
    for (let i = 0; i < 60; i++) {
      device.advance(60_000);
      device.personalizer.track({ type: 'view', item: item(`sku-${i % 2}`, 'Shoes', 10 + i) });
    }
    await device.personalizer.sync();
    await device.personalizer.train();
    await device.personalizer.sync();
    expect(sent).toHaveLength(1);
    const norm = weightsNorm(decodeTensors(sent[0] as Uint8Array).tensors);
    expect(norm).toBeGreaterThan(0.4);
    expect(norm).toBeLessThanOrEqual(0.5 + 1e-6);
    expect(device.errors).toEqual([]);
  });
});
