import { vValidator } from '@hono/valibot-validator';
import { Hono } from 'hono';
import { toCatalogItem } from '../../core/catalog.js';
import { ROUTES } from '../../core/sync/protocol.js';
import { adminAuth } from '../admin-auth.js';
import { bodyLimit } from '../body-limit.js';
import { parseCatalogFeed } from '../catalog-feed.js';
import { CatalogInputSchema } from '../catalog-input.js';
import { errorResponse } from '../error-response.js';
import { formatIssues } from '../format-issues.js';
import type { ResolvedSyncServerOptions } from '../sync-server-options.js';
import type { SyncService } from '../sync-service.js';
import { feedBody } from './feed-body.js';

/**
 * `GET /v1/catalog` (public) and `PUT /v1/catalog` (operator): a JSON array of items or `{ items }`,
 * or a feed as `text/csv` or `application/x-ndjson` (read by {@link parseCatalogFeed}).
 */
export function catalogRoutes(service: SyncService, options: ResolvedSyncServerOptions): Hono {
  return new Hono()
    .get(ROUTES.catalog, async (c) => {
      c.header('Cache-Control', 'no-cache');
      return c.json(await service.catalog());
    })
    .put(
      ROUTES.catalog,
      adminAuth(options.adminToken),
      bodyLimit(options.maxCatalogBytes),
      feedBody(async (text, type) => service.importCatalog(parseCatalogFeed(text, type, 'body'))),
      vValidator('json', CatalogInputSchema, (result, c) => {
        if (result.success) return;
        const json = /^application\/([a-z.+-]*\+)?json/iu.test(c.req.header('content-type') ?? '');
        const reason = json ? formatIssues(result.issues) : 'expected a JSON body with Content-Type: application/json';
        return errorResponse(c, 'INVALID_REQUEST', `Invalid catalog: ${reason}`);
      }),
      async (c) => c.json(await service.importCatalog(c.req.valid('json').items.map(toCatalogItem))),
    );
}
