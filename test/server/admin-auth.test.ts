import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeTensors } from '../../src/core/sync/tensor-codec.js';
import { createSyncServer } from '../../src/server/index.js';
import {
  ADMIN_TOKEN,
  expectError,
  filledWeights,
  getManifest,
  makeItems,
  putCatalog,
  quiet,
  type Running,
  startServer,
} from './helpers.js';

const putModel = (url: string, headers: Record<string, string>) =>
  fetch(`${url}/v1/model`, {
    method: 'PUT',
    headers,
    body: Buffer.from(encodeTensors(filledWeights({ items: 2, categories: 3, brands: 1, dim: 4 }, () => 0))),
  });

describe('operator routes', () => {
  let guarded: Running;
  let open: Running;
  beforeAll(async () => {
    [guarded, open] = await Promise.all([
      startServer({ adminToken: ADMIN_TOKEN, modelDim: 4 }),
      startServer({ modelDim: 4 }),
    ]);
    await Promise.all([guarded.server.importCatalog(makeItems(2)), open.server.importCatalog(makeItems(2))]);
  });
  afterAll(() => Promise.all([guarded.stop(), open.stop()]));

  it('answers 401 without a bearer token and 403 with a wrong one, changing nothing', async () => {
    const missing = await putCatalog(guarded.url, makeItems(3), null);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
    await expectError(missing, 401, 'UNAUTHORIZED');
    await expectError(await putCatalog(guarded.url, makeItems(3), 'wrong-token'), 403, 'FORBIDDEN');
    await expectError(await putModel(guarded.url, {}), 401, 'UNAUTHORIZED');
    await expectError(await putModel(guarded.url, { authorization: 'Bearer wrong-token' }), 403, 'FORBIDDEN');
    await expectError(await putModel(guarded.url, { authorization: `Basic ${ADMIN_TOKEN}` }), 401, 'UNAUTHORIZED');
    expect(((await (await fetch(`${guarded.url}/v1/catalog`)).json()) as { items: unknown[] }).items).toHaveLength(2);
    expect((await getManifest(guarded.url)).version).toBe(1);
  });

  it('accepts the right token', async () => {
    expect((await putCatalog(guarded.url, makeItems(3))).status).toBe(200);
    expect((await putModel(guarded.url, { authorization: `Bearer ${ADMIN_TOKEN}` })).status).toBe(400);
  });

  it('answers 403 to everyone when the server has no admin token', async () => {
    await expectError(await putCatalog(open.url, makeItems(3), ADMIN_TOKEN), 403, 'FORBIDDEN');
    await expectError(await putModel(open.url, { authorization: `Bearer ${ADMIN_TOKEN}` }), 403, 'FORBIDDEN');
  });

  it('answers CORS preflights for the configured origins only', async () => {
    const server = await createSyncServer({ dataDir: 'memory://', corsOrigins: ['https://shop.test'], logger: quiet });
    try {
      const preflight = (origin: string) =>
        server.app.request('/v1/updates', {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'POST' },
        });
      expect((await preflight('https://shop.test')).headers.get('access-control-allow-origin')).toBe(
        'https://shop.test',
      );
      expect((await preflight('https://evil.test')).headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await server.close();
    }
  });

  it('gives other requests their CORS headers, an error’s answer included', async () => {
    const listed = await createSyncServer({ dataDir: 'memory://', corsOrigins: ['https://shop.test'], logger: quiet });
    const any = await createSyncServer({ dataDir: 'memory://', logger: quiet });
    try {
      const get = (server: typeof any, path: string, origin: string) =>
        server.app.request(path, { headers: { origin } });
      const health = await get(listed, '/v1/health', 'https://shop.test');
      expect(health.status).toBe(200);
      expect(health.headers.get('access-control-allow-origin')).toBe('https://shop.test');
      expect(health.headers.get('access-control-expose-headers')).toBe('ETag');
      expect(health.headers.get('vary')).toBe('Origin');
      const other = await get(listed, '/v1/health', 'https://evil.test');
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      expect(other.headers.get('vary')).toBe('Origin');
      // A refused update: the page must be able to read why.
      const refused = await any.app.request('/v1/updates', {
        method: 'POST',
        headers: { origin: 'https://any.test' },
        body: new Uint8Array(4),
      });
      expect(refused.status).toBe(400);
      expect(refused.headers.get('access-control-allow-origin')).toBe('*');
      expect(refused.headers.get('vary')).toBeNull();
    } finally {
      await listed.close();
      await any.close();
    }
  });

  it('refuses invalid options with INVALID_OPTIONS', async () => {
    await expect(createSyncServer({ roundSize: 0 })).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    await expect(createSyncServer({ adminToken: 'short' })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      message: expect.stringContaining('adminToken'),
    });
  });
});
