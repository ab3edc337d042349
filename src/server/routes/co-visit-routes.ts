import { vValidator } from '@hono/valibot-validator';
import { Hono } from 'hono';
import { ROUTES } from '../../core/sync/protocol.js';
import { adminAuth } from '../admin-auth.js';
import { bodyLimit } from '../body-limit.js';
import { parseCoVisitFeed } from '../co-visit-feed.js';
import { CoVisitInputSchema } from '../co-visit-input.js';
import { errorResponse } from '../error-response.js';
import { formatIssues } from '../format-issues.js';
import type { ResolvedSyncServerOptions } from '../sync-server-options.js';
import type { SyncService } from '../sync-service.js';
import { feedBody } from './feed-body.js';

/**
 * `PUT /v1/co-visits` (operator): the shop's shopper histories as JSON `{ histories: [[id, …], …] }`,
 * or as a feed of `shopper,item,time` rows in `text/csv` or `application/x-ndjson` (read by
 * {@link parseCoVisitFeed}), counted into the catalog's co-visits. Bodies are limited like catalog
 * feeds (`maxCatalogBytes`).
 */
export function coVisitRoutes(service: SyncService, options: ResolvedSyncServerOptions): Hono {
  return new Hono().put(
    ROUTES.coVisits,
    adminAuth(options.adminToken),
    bodyLimit(options.maxCatalogBytes),
    feedBody(async (text, type) => service.importCoVisits(parseCoVisitFeed(text, type))),
    vValidator('json', CoVisitInputSchema, (result, c) => {
      if (result.success) return;
      const json = /^application\/([a-z.+-]*\+)?json/iu.test(c.req.header('content-type') ?? '');
      const reason = json ? formatIssues(result.issues) : 'expected a JSON body with Content-Type: application/json';
      return errorResponse(c, 'INVALID_REQUEST', `Invalid shopper histories: ${reason}`);
    }),
    async (c) => c.json(await service.importCoVisits(c.req.valid('json').histories)),
  );
}
