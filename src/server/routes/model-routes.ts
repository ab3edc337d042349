import { vValidator } from '@hono/valibot-validator';
import { Hono } from 'hono';
import * as v from 'valibot';
import { DEFAULT_OPTIONS } from '../../core/personalizer/options.js';
import { ROUTES } from '../../core/sync/protocol.js';
import { adminAuth } from '../admin-auth.js';
import { requestBytes } from '../body-limit.js';
import { errorResponse } from '../error-response.js';
import { formatIssues } from '../format-issues.js';
import type { ResolvedSyncServerOptions } from '../sync-server-options.js';
import type { SyncService } from '../sync-service.js';

const VersionParamSchema = v.object({
  version: v.pipe(v.string(), v.digits(), v.maxLength(9), v.transform(Number)),
});
const WeightsQuerySchema = v.object({ dtype: v.optional(v.picklist(['F32', 'F16', 'I8']), 'F32') });
/** A prior defaults to the encoding devices download by default (the SDK's `weightsDtype`). */
const PriorQuerySchema = v.object({
  dtype: v.optional(v.picklist(['F32', 'F16', 'I8']), DEFAULT_OPTIONS.weightsDtype),
});

const invalid = (
  result: { success: boolean; issues?: readonly v.BaseIssue<unknown>[] },
  c: Parameters<typeof errorResponse>[0],
) => {
  if (!result.success) return errorResponse(c, 'INVALID_REQUEST', formatIssues(result.issues ?? []));
};

/**
 * `GET /v1/model` (manifest, revalidated by ETag), `GET /v1/model/weights/:version?dtype=` (immutable
 * safetensors bytes), `PUT /v1/model` (operator; safetensors body, config in metadata or current) and
 * `GET /v1/model/prior?dtype=` (operator: the current model and catalog as a prior file, built per
 * request, hence behind the token).
 */
export function modelRoutes(service: SyncService, options: ResolvedSyncServerOptions): Hono {
  return new Hono()
    .get(ROUTES.model, async (c) => {
      c.header('Cache-Control', 'no-cache');
      return c.json(await service.manifest());
    })
    .get(
      `${ROUTES.modelWeights}/:version`,
      vValidator('param', VersionParamSchema, invalid),
      vValidator('query', WeightsQuerySchema, invalid),
      async (c) => {
        const file = await service.weights(c.req.valid('param').version, c.req.valid('query').dtype);
        return c.body(file.bytes, 200, {
          'Content-Type': 'application/octet-stream',
          'Cache-Control': 'public, max-age=31536000, immutable',
          ETag: file.etag,
        });
      },
    )
    .put(ROUTES.model, adminAuth(options.adminToken), async (c) => {
      const bytes = await requestBytes(c, options.maxModelBytes);
      return c.json(await service.publishModelPayload(bytes));
    })
    .get(ROUTES.modelPrior, adminAuth(options.adminToken), vValidator('query', PriorQuerySchema, invalid), async (c) =>
      c.body(await service.prior(c.req.valid('query').dtype), 200, {
        'Content-Type': 'application/octet-stream',
        'Cache-Control': 'no-store',
      }),
    );
}
