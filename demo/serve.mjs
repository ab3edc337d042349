#!/usr/bin/env node
// Starts the demo: one sync server (embedded database) that also serves the shop's pages and the
// built SDK, on one origin. Run `npm run demo`; it builds first.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { serveStatic } from '@hono/node-server/serve-static';
import { createSyncServer } from 'omnipersona/server';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

/**
 * Starts the demo server. A fresh data folder is seeded with the demo catalog; the server then
 * builds the initial global model from it. The site secret (for shopper tokens) and the admin token
 * are new at each start unless given.
 * @param {{ port?: number, host?: string, dataDir?: string, roundSize?: number, siteSecret?: string, adminToken?: string }} options
 */
export async function startDemo({
  port = 8787,
  host = '127.0.0.1',
  dataDir = join(root, '.omnipersona/demo'),
  roundSize = 1,
  siteSecret = randomBytes(32).toString('base64url'),
  adminToken = randomBytes(24).toString('base64url'),
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
  // serveStatic resolves `root` against the working directory.
  const fromCwd = (path) => relative(process.cwd(), path) || '.';
  server.app.use(
    '/sdk/*',
    serveStatic({ root: fromCwd(join(root, 'dist')), rewriteRequestPath: (path) => path.replace(/^\/sdk/u, '') }),
  );
  server.app.use('/*', serveStatic({ root: fromCwd(here) }));
  const current = await (await server.app.request('/v1/catalog')).json();
  if (!current.items?.length) {
    await server.importCatalog(JSON.parse(readFileSync(join(here, 'catalog.json'), 'utf8')));
  }
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
