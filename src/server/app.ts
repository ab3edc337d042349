import { Hono } from 'hono';
import { etag, RETAINED_304_HEADERS } from 'hono/etag';
import { HTTPException } from 'hono/http-exception';
import { OmniPersonaError } from '../core/errors.js';
import { PROTOCOL_VERSION, ROUTES } from '../core/sync/protocol.js';
import { corsHeaders } from './cors.js';
import { errorResponse } from './error-response.js';
import { OPENAPI_PATH, openApiDocument } from './openapi.js';
import { catalogRoutes } from './routes/catalog-routes.js';
import { coVisitRoutes } from './routes/co-visit-routes.js';
import { modelRoutes } from './routes/model-routes.js';
import { shopperRoutes } from './routes/shopper-routes.js';
import { updateRoutes } from './routes/update-routes.js';
import type { ResolvedSyncServerOptions } from './sync-server-options.js';
import type { SyncService } from './sync-service.js';

/**
 * The sync protocol as a Hono app, free of any runtime: the Node listener, tests and other hosts
 * all serve this. Every failure becomes a JSON `ErrorBody`; nothing a request sends can crash it.
 */
export function createSyncApp(service: SyncService, options: ResolvedSyncServerOptions): Hono {
  const app = new Hono();
  app.use(corsHeaders(options.corsOrigins));
  // A 304 must keep the CORS headers, or a browser refuses it when the page sent If-None-Match itself.
  const tagged = etag({
    retainedHeaders: [...RETAINED_304_HEADERS, 'access-control-allow-origin', 'access-control-expose-headers'],
  });
  // Only what can be fetched conditionally is tagged: hashing every answer to a POST (each model
  // update's receipt) cost more than a tenth of the update's time on the server.
  app.use((c, next) => (c.req.method === 'GET' || c.req.method === 'HEAD' ? tagged(c, next) : next()));
  app.get(ROUTES.health, (c) => c.json({ ok: true, version: PROTOCOL_VERSION }));
  const document = openApiDocument();
  app.get(OPENAPI_PATH, (c) => c.json(document));
  app.route('/', catalogRoutes(service, options));
  app.route('/', coVisitRoutes(service, options));
  app.route('/', modelRoutes(service, options));
  app.route('/', updateRoutes(service, options));
  app.route('/', shopperRoutes(service.shoppers, options));
  app.notFound((c) => errorResponse(c, 'NOT_FOUND', `No route for ${c.req.method} ${c.req.path}`));
  app.onError((error, c) => {
    if (error instanceof OmniPersonaError) return errorResponse(c, error.code, error.message);
    if (error instanceof HTTPException && error.status < 500) {
      const code = error.status === 413 ? 'PAYLOAD_TOO_LARGE' : 'INVALID_REQUEST';
      return errorResponse(c, code, error.message || 'The request is malformed', error.status);
    }
    options.logger.error(`${c.req.method} ${c.req.path} failed`, error);
    return errorResponse(c, 'INTERNAL', 'The server failed to answer this request');
  });
  return app;
}
