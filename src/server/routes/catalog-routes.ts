import { vValidator } from '@hono/valibot-validator';
import { Hono } from 'hono';
import { toCatalogItem } from '../../core/catalog.js';
import { OmniPersonaError } from '../../core/errors.js';
import { ROUTES } from '../../core/sync/protocol.js';
import { adminAuth } from '../admin-auth.js';
import { bodyLimit } from '../body-limit.js';
import { type CatalogFeedFormat, parseCatalogFeed } from '../catalog-feed.js';
import { CatalogInputSchema } from '../catalog-input.js';
import { errorResponse } from '../error-response.js';
import { formatIssues } from '../format-issues.js';
import type { ResolvedSyncServerOptions } from '../sync-server-options.js';
import type { SyncService } from '../sync-service.js';

/** Feed bodies other than JSON, by content type. */
const FEED_TYPES: ReadonlyArray<[RegExp, CatalogFeedFormat]> = [
  [/^text\/csv\b/iu, 'csv'],
  [/^application\/(x-ndjson|jsonl|x-jsonlines)\b/iu, 'jsonl'],
];

/**
 * `GET /v1/catalog` (public) and `PUT /v1/catalog` (operator): a JSON array of items or `{ items }`,
 * or a feed as `text/csv` or `application/x-ndjson` (see {@link CatalogFeedFormat}).
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
      async (c, next) => {
        const type = c.req.header('content-type') ?? '';
        const format = FEED_TYPES.find(([pattern]) => pattern.test(type))?.[1];
        if (!format) return next();
        try {
          return c.json(await service.importCatalog(parseCatalogFeed(await c.req.text(), format, 'body')));
        } catch (error) {
          if (!(error instanceof OmniPersonaError) || error.code !== 'INVALID_REQUEST') throw error;
          return errorResponse(c, 'INVALID_REQUEST', error.message);
        }
      },
      vValidator('json', CatalogInputSchema, (result, c) => {
        if (result.success) return;
        const json = /^application\/([a-z.+-]*\+)?json/iu.test(c.req.header('content-type') ?? '');
        const reason = json ? formatIssues(result.issues) : 'expected a JSON body with Content-Type: application/json';
        return errorResponse(c, 'INVALID_REQUEST', `Invalid catalog: ${reason}`);
      }),
      async (c) => c.json(await service.importCatalog(c.req.valid('json').items.map(toCatalogItem))),
    );
}
