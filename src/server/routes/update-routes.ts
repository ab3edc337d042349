import { Hono } from 'hono';
import { ROUTES } from '../../core/sync/protocol.js';
import { requestBytes } from '../body-limit.js';
import type { ResolvedSyncServerOptions } from '../sync-server-options.js';
import type { SyncService } from '../sync-service.js';

/**
 * `POST /v1/updates`: a device's model delta in the safetensors layout, with `UPDATE_METADATA`.
 * Answers an `UpdateReceipt`; 409 `STALE_UPDATE` when the base is no longer the current version.
 */
export function updateRoutes(service: SyncService, options: ResolvedSyncServerOptions): Hono {
  return new Hono().post(ROUTES.updates, async (c) => {
    const bytes = await requestBytes(c, options.maxUpdateBytes);
    return c.json(await service.submitUpdate(bytes));
  });
}
