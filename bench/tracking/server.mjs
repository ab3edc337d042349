import { relative } from 'node:path';
import { serve } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';

/**
 * One local origin for the whole tracking bench, so no script or beacon leaves the machine and no
 * response needs CORS: our built files under `/sdk/`, the bundled peers under `/peers/`, the bench
 * pages at the root, and a collector that accepts what Segment and Snowplow send.
 *
 * Every response carries COOP/COEP so the pages are cross-origin isolated: Chromium then gives
 * `performance.now()` 5 µs resolution instead of 100 µs.
 *
 * The ML bench reuses it without peers (`peers` omitted: no `/peers/` route).
 *
 * @param {{ dist: string, peers?: string, pages: string }} dirs
 */
export async function startBenchServer({ dist, peers, pages }) {
  const collected = { segment: 0, snowplow: 0 };
  const app = new Hono();
  app.use('*', async (c, next) => {
    await next();
    c.header('Cross-Origin-Opener-Policy', 'same-origin');
    c.header('Cross-Origin-Embedder-Policy', 'require-corp');
    c.header('Cross-Origin-Resource-Policy', 'same-origin');
    c.header('Cache-Control', 'no-store');
  });

  // Segment's Segment.io destination posts one event per request to <apiHost>/t; its metrics go to /m.
  app.post('/v1/:kind', async (c) => {
    const body = await c.req.text();
    if (body.includes('Product Viewed')) collected.segment += 1;
    return c.json({ success: true });
  });
  // Snowplow posts batches of payloads; GET /i is its pixel fallback.
  app.post('/com.snowplowanalytics.snowplow/tp2', async (c) => {
    const body = await c.req.json().catch(() => ({}));
    collected.snowplow += Array.isArray(body.data) ? body.data.filter((event) => event.e === 'ue').length : 0;
    return c.body(null, 200);
  });
  app.get('/i', (c) => {
    if (c.req.query('e') === 'ue') collected.snowplow += 1;
    return c.body(null, 200);
  });

  // serveStatic resolves `root` against the working directory.
  const fromCwd = (path) => relative(process.cwd(), path) || '.';
  const under = (prefix, root) =>
    serveStatic({ root: fromCwd(root), rewriteRequestPath: (path) => path.slice(prefix.length) });
  app.use('/sdk/*', under('/sdk', dist));
  if (peers) app.use('/peers/*', under('/peers', peers));
  app.use('/*', serveStatic({ root: fromCwd(pages) }));

  const { server, port } = await new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) =>
      resolve({ server, port: info.port }),
    );
  });
  return {
    origin: `http://127.0.0.1:${port}`,
    /** Product views that reached the collector, by peer, since the last `resetCollected()`. */
    collected: () => ({ ...collected }),
    resetCollected() {
      collected.segment = 0;
      collected.snowplow = 0;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
