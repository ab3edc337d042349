/**
 * `omnipersona/server`: the sync server that publishes the catalog and the global model and
 * aggregates devices' updates (federated averaging).
 * @packageDocumentation
 */

export { MODEL_METADATA } from '../core/sync/protocol.js';
export { createSyncApp } from './app.js';
export { type CatalogFeedFormat, parseCatalogFeed, readCatalogFeed } from './catalog-feed.js';
export { parseCatalogInput } from './catalog-input.js';
export { type CoVisitFeedFormat, parseCoVisitFeed } from './co-visit-feed.js';
export {
  createSyncServer,
  LISTEN_DEFAULTS,
  type Listener,
  type ListenOptions,
  type SyncServer,
} from './create-sync-server.js';
export type { ServerErrorCode } from './error-response.js';
export { SHOPPER_TOKEN_AUDIENCE, type ShopperTokenOptions, signShopperToken } from './shopper-token.js';
export { createPgliteClient, IN_MEMORY } from './store/pglite-client.js';
export { createPostgresClient } from './store/postgres-client.js';
export type { SqlClient, SqlQueryable } from './store/sql-client.js';
export { SqlSyncStore } from './store/sql-sync-store.js';
export type * from './store/sync-store.js';
export {
  SYNC_SERVER_DEFAULTS,
  type SyncServerLogger,
  type SyncServerOptions,
} from './sync-server-options.js';
export { type CatalogImportResult, type CoVisitImportResult, SyncService } from './sync-service.js';
