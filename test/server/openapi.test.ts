import { readFile, writeFile } from 'node:fs/promises';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../src/core/sync/protocol.js';
import { OPENAPI_PATH, openApiDocument } from '../../src/server/openapi.js';
import { signShopperToken } from '../../src/server/shopper-token.js';
import { ADMIN_TOKEN, getManifest, makeItems, type Running, startServer } from './helpers.js';

/** The document kept in the repository; `npm run openapi` rewrites it. */
const FILE = new URL('../../openapi.json', import.meta.url);
const SECRET = 'openapi-test-site-secret-of-32-chars';

interface Document {
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, object> };
}

describe('the OpenAPI document', () => {
  let running: Running;
  const document = openApiDocument() as unknown as Document;
  beforeAll(async () => {
    running = await startServer({ adminToken: ADMIN_TOKEN, siteSecret: SECRET, modelDim: 4 });
    await running.server.importCatalog(makeItems(3));
  });
  afterAll(() => running.stop());

  it('is served, and is the one kept in the repository', async () => {
    const served = await (await fetch(`${running.url}${OPENAPI_PATH}`)).json();
    expect(served).toEqual(document);
    const text = `${JSON.stringify(document, null, 2)}\n`;
    if (process.env.OMNIPERSONA_WRITE_OPENAPI === '1') await writeFile(FILE, text);
    expect(await readFile(FILE, 'utf8'), 'openapi.json is out of date: run npm run openapi').toBe(text);
  });

  it('describes every route of the protocol', () => {
    const paths = Object.keys(document.paths);
    for (const route of Object.values(ROUTES)) {
      const path = route === ROUTES.modelWeights ? `${route}/{version}` : route.replace(/:(\w+)/gu, '{$1}');
      expect(paths, route).toContain(path);
    }
  });

  it('has schemas that what the server answers conforms to', async () => {
    // The document as one schema resource, so that its schemas' references resolve inside it.
    const ajv = new Ajv2020({ strict: false });
    ajv.addSchema({ $id: 'openapi', components: document.components });
    const validates = (name: string, value: unknown) => {
      const validate = ajv.getSchema(`openapi#/components/schemas/${name}`);
      if (!validate) throw new Error(`No schema ${name}`);
      return { valid: validate(value), errors: ajv.errorsText(validate.errors) };
    };
    const check = (name: string, value: unknown) => {
      const { valid, errors } = validates(name, value);
      expect(valid, `${name}: ${errors}`).toBe(true);
    };
    check('ModelManifest', await getManifest(running.url));
    check('CatalogDocument', await (await fetch(`${running.url}${ROUTES.catalog}`)).json());
    check('Health', await (await fetch(`${running.url}${ROUTES.health}`)).json());
    check('Error', await (await fetch(`${running.url}/v1/nowhere`)).json());

    const token = await signShopperToken(SECRET, 'ana');
    const event = {
      id: 'e1',
      type: 'view',
      time: 1,
      sessionId: 's',
      channel: 'web',
      item: { id: 'sku-0', category: 'A > B' },
    };
    check('ShopperEventsBody', { events: [event] });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const posted = await fetch(`${running.url}${ROUTES.shopperEvents}`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ events: [event] }),
    });
    check('ShopperEventsReceipt', await posted.json());
    check('ShopperEventsPage', await (await fetch(`${running.url}${ROUTES.shopperEvents}`, { headers })).json());
    // And what it refuses, it does not describe as valid.
    expect(validates('ShopperEventsBody', { events: [{ ...event, type: 'teleport' }] }).valid).toBe(false);
    expect(validates('CatalogBody', []).valid).toBe(false);
  });
});
