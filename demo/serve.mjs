#!/usr/bin/env node
// Starts the demo: one sync server (embedded database) that also serves the demo's pages, the built
// SDK and the shop backend's two calls (sign-in, in-store purchases), on one origin. Run
// `npm run demo`; it builds first.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { serveStatic } from '@hono/node-server/serve-static';
import { createSyncServer, signShopperToken } from 'omnipersona/server';
import { simulatedHistories } from './data/build-model.mjs';
import { productImage } from './product-image.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

/** The demo's own catalog and the global model trained for it (demo/data/build-*.mjs). */
export const DEMO_CATALOG = join(here, 'data', 'catalog.json');
export const DEMO_MODEL = join(here, 'data', 'model.safetensors');

/** A shopper id the demo signs in: what a shop's account ids look like, nothing more. */
const USER_ID = /^[\w.@+-]{1,64}$/u;

/**
 * Starts the demo server. A fresh data folder is seeded with `catalog` and, when given, the global
 * model in `model` (else the server builds an untrained one from the catalog), and for the demo's
 * own catalog, co-visits counted from the histories of the shoppers the model was trained on, as a
 * shop's operator would publish its order history. The site secret
 * (for shopper tokens) and the admin token are new at each start unless given.
 * @param {import('./serve.d.mts').DemoOptions} [options]
 */
export async function startDemo({
  port = 8787,
  host = '127.0.0.1',
  dataDir = join(root, '.omnipersona/demo'),
  roundSize = 10,
  siteSecret = randomBytes(32).toString('base64url'),
  adminToken = randomBytes(24).toString('base64url'),
  pages = here,
  catalog = DEMO_CATALOG,
  model = catalog === DEMO_CATALOG ? DEMO_MODEL : undefined,
  coVisits = catalog === DEMO_CATALOG,
} = {}) {
  const server = await createSyncServer({
    dataDir,
    roundSize,
    // A round of one update is one shopper's steps: added as they are, not scaled up by Adam.
    serverOptimizer: roundSize < 20 ? 'mean' : 'adam',
    siteSecret,
    adminToken,
    logger: { info() {}, error: console.error },
  });
  const items = JSON.parse(readFileSync(catalog, 'utf8'));
  const byId = new Map(items.map((item) => [item.id, item]));

  const app = server.app;
  app.get('/catalog.json', (c) => c.json(items));
  app.get('/images/:file', (c) => {
    const item = byId.get(c.req.param('file').replace(/\.svg$/u, ''));
    if (!item) return c.notFound();
    c.header('Cache-Control', 'public, max-age=86400');
    return c.body(productImage(item), 200, { 'Content-Type': 'image/svg+xml' });
  });
  // The shop's backend: it knows who signed in, and signs a token for that shopper's state.
  app.post('/demo/sign-in', async (c) => {
    const { userId } = await c.req.json().catch(() => ({}));
    if (typeof userId !== 'string' || !USER_ID.test(userId)) {
      return c.json(
        { error: { code: 'INVALID_REQUEST', message: 'userId: 1 to 64 letters, digits or . @ + - _' } },
        400,
      );
    }
    return c.json({ userId, token: await signShopperToken(siteSecret, userId) });
  });
  // The shop's backend again, for the in-store till: it forwards a sale to the sync server's channel
  // API with the operator token, which never reaches a browser.
  app.post('/demo/pos/sale', async (c) => {
    const { userId, itemIds } = await c.req.json().catch(() => ({}));
    const lines = Array.isArray(itemIds) ? itemIds.map((id) => byId.get(id)) : [];
    if (typeof userId !== 'string' || !USER_ID.test(userId) || lines.length === 0 || lines.some((item) => !item)) {
      return c.json(
        { error: { code: 'INVALID_REQUEST', message: 'userId and itemIds from the catalog, please' } },
        400,
      );
    }
    const orderId = `till-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const response = await app.request(`/v1/shoppers/${encodeURIComponent(userId)}/events?channel=pos`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({
        events: [
          {
            id: orderId,
            type: 'purchase',
            time: Date.now(),
            orderId,
            currency: 'USD',
            items: lines.map((item) => ({ item: itemInput(item), quantity: 1, price: item.price })),
          },
        ],
      }),
    });
    return c.json({ orderId, ...(await response.json()) }, response.status);
  });

  // serveStatic resolves `root` against the working directory.
  const fromCwd = (path) => relative(process.cwd(), path) || '.';
  app.use(
    '/sdk/*',
    serveStatic({ root: fromCwd(join(root, 'dist')), rewriteRequestPath: (path) => path.replace(/^\/sdk/u, '') }),
  );
  // The app channel, as `vite build -c demo/app/vite.config.mjs` built it.
  app.use(
    '/app/*',
    serveStatic({
      root: fromCwd(join(here, 'app', 'dist')),
      rewriteRequestPath: (path) => path.replace(/^\/app/u, ''),
    }),
  );
  app.use('/*', serveStatic({ root: fromCwd(pages) }));

  // Routes first: the app takes none once it has answered a request.
  const current = await (await app.request('/v1/catalog')).json();
  if (!current.items?.length) {
    await server.importCatalog(items);
    if (model) await publish(server, adminToken, readFileSync(model));
  }
  if (coVisits && !current.coVisits) await publishCoVisits(server, adminToken, simulatedHistories(items));
  const listener = await server.listen({ port, host });
  return {
    url: listener.url,
    siteSecret,
    adminToken,
    async close() {
      await server.close();
    },
  };
}

/** Publishes a model file (`PUT /v1/model`, its config in the metadata) as the global model. */
async function publish(server, adminToken, bytes) {
  const response = await server.app.request('/v1/model', {
    method: 'PUT',
    headers: { 'Content-Type': 'application/octet-stream', Authorization: `Bearer ${adminToken}` },
    body: bytes,
  });
  if (!response.ok) throw new Error(`Publishing the demo model failed: ${response.status} ${await response.text()}`);
}

/** Publishes shopper histories (`PUT /v1/co-visits`), counted into the catalog's co-visits. */
async function publishCoVisits(server, adminToken, histories) {
  const response = await server.app.request('/v1/co-visits', {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${adminToken}` },
    body: JSON.stringify({ histories }),
  });
  if (!response.ok) throw new Error(`Publishing co-visits failed: ${response.status} ${await response.text()}`);
}

function itemInput(item) {
  return { id: item.id, name: item.name, category: item.category, brand: item.brand, price: item.price };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: { port: { type: 'string', default: '8787' }, host: { type: 'string', default: '127.0.0.1' } },
  });
  const demo = await startDemo({ port: Number(values.port), host: values.host });
  console.log(`OmniPersona demo: ${demo.url}/`);
  const stop = () => demo.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
