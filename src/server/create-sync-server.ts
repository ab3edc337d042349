import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import { toOmniPersonaError } from '../core/errors.js';
import type { ItemInput } from '../core/event.js';
import type { ModelConfig } from '../core/model/model-spec.js';
import type { WeightSet } from '../core/model/weights.js';
import { DEFAULT_OPTIONS } from '../core/personalizer/options.js';
import type { ModelManifest } from '../core/sync/protocol.js';
import type { WireDtype } from '../core/sync/tensor-codec.js';
import { createSyncApp } from './app.js';
import { parseCatalogInput } from './catalog-input.js';
import { parseCoVisitInput } from './co-visit-input.js';
import { createPgliteClient } from './store/pglite-client.js';
import { createPostgresClient } from './store/postgres-client.js';
import type { SqlClient } from './store/sql-client.js';
import { SqlSyncStore } from './store/sql-sync-store.js';
import {
  type ResolvedSyncServerOptions,
  resolveSyncServerOptions,
  type SyncServerOptions,
} from './sync-server-options.js';
import { type CatalogImportResult, type CoVisitImportResult, SyncService } from './sync-service.js';
import { UpdateWorkerPool } from './update-workers.js';

/** How long the server keeps an idle HTTP connection open. */
const KEEP_ALIVE_MS = 65_000;

/** Where {@link SyncServer.listen} binds. */
export interface ListenOptions {
  /** `0` picks a free port. @default 8787 */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
}

/** A bound HTTP listener. */
export interface Listener {
  /** Base URL, e.g. `http://127.0.0.1:8787`: the endpoint devices are given. */
  url: string;
  /**
   * Stops accepting connections and ends idle ones; connections still busy after
   * {@link CLOSE_GRACE_MS} are ended too, so that a client holding one open cannot stall a shutdown.
   */
  close(): Promise<void>;
}

/** How long {@link Listener.close} lets requests in flight finish. */
export const CLOSE_GRACE_MS = 2000;

/** A sync server: the HTTP app over its store, plus the operator calls a host makes in-process. */
export interface SyncServer {
  /** The Hono app, to mount under a prefix, wrap or extend (static files, health probes). */
  readonly app: Hono;
  /** Serves {@link app} over Node HTTP. */
  listen(options?: ListenOptions): Promise<Listener>;
  /** Validates and merges catalog items, like `PUT /v1/catalog` without the token. */
  importCatalog(items: readonly ItemInput[]): Promise<CatalogImportResult>;
  /**
   * Counts the shop's shopper histories (item ids, oldest first) into the catalog's co-visits, like
   * `PUT /v1/co-visits` without the token.
   * @throws OmniPersonaError `INVALID_REQUEST` for invalid histories, `NOT_FOUND` before the first catalog.
   */
  importCoVisits(histories: ReadonlyArray<readonly string[]>): Promise<CoVisitImportResult>;
  /** Publishes weights as the next model version, like `PUT /v1/model` without the token. */
  publishModel(weights: WeightSet, config?: ModelConfig): Promise<ModelManifest>;
  /**
   * The current model and catalog as a prior file, weights in `dtype` (by default the SDK's default
   * `weightsDtype`, F16), like `GET /v1/model/prior` without the token: the shop serves it with its
   * static assets and points the SDK's `prior` option at it.
   * @throws OmniPersonaError `MODEL_UNAVAILABLE` before the first model is published.
   */
  exportPrior(dtype?: WireDtype): Promise<Uint8Array>;
  /** Closes every listener, then the update workers and the database (unless it was passed in as `sql`). */
  close(): Promise<void>;
}

/** The defaults of {@link ListenOptions}. */
export const LISTEN_DEFAULTS = { port: 8787, host: '127.0.0.1' } as const;

/**
 * Opens (and migrates) the store and builds the sync server.
 * @throws OmniPersonaError `INVALID_OPTIONS` for a wrong option.
 * @example
 * ```ts
 * const server = await createSyncServer({ dataDir: './.omnipersona', adminToken: process.env.TOKEN });
 * await server.importCatalog(items);
 * const { url } = await server.listen({ port: 8787 });
 * ```
 */
export async function createSyncServer(options: SyncServerOptions = {}): Promise<SyncServer> {
  const resolved = resolveSyncServerOptions(options);
  const sql = resolved.sql ?? (await openDatabase(resolved));
  let store: SqlSyncStore;
  try {
    store = await SqlSyncStore.open(sql, { keepModelVersions: resolved.keepModelVersions });
  } catch (error) {
    if (!resolved.sql) await sql.close();
    throw toOmniPersonaError(error, 'STORAGE_UNAVAILABLE', 'Could not prepare the database');
  }
  const processor = UpdateWorkerPool.create(resolved.updateWorkers, (error) =>
    resolved.logger.error('An update worker stopped and was replaced', error),
  );
  const service = new SyncService(store, resolved, processor);
  const app = createSyncApp(service, resolved);
  const listeners = new Set<Listener>();
  let closing: Promise<void> | undefined;
  return {
    app,
    async listen({ port = LISTEN_DEFAULTS.port, host = LISTEN_DEFAULTS.host } = {}) {
      // Without a `createServer` option the adaptor builds a plain `node:http` server.
      const server = createAdaptorServer({ fetch: app.fetch }) as HttpServer;
      // Idle connections outlive a client's or a load balancer's own idle timeout (60 s for the
      // usual ones), so that the server never closes one just as a request is sent on it.
      server.keepAliveTimeout = KEEP_ALIVE_MS;
      server.headersTimeout = KEEP_ALIVE_MS + 1000;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const address = server.address() as AddressInfo;
      const hostname = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      const listener: Listener = {
        url: `http://${hostname}:${address.port}`,
        close: () =>
          new Promise<void>((resolve, reject) => {
            listeners.delete(listener);
            const cutOff = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
            server.close((error) => {
              clearTimeout(cutOff);
              if (error) reject(error);
              else resolve();
            });
            server.closeIdleConnections();
          }),
      };
      listeners.add(listener);
      return listener;
    },
    importCatalog: async (items) => service.importCatalog(parseCatalogInput([...items])),
    importCoVisits: async (histories) => service.importCoVisits(parseCoVisitInput(histories)),
    publishModel: (weights, config) => service.publishModel(weights, config),
    exportPrior: (dtype = DEFAULT_OPTIONS.weightsDtype) => service.prior(dtype),
    close() {
      // Idempotent: a host's shutdown paths may overlap (signal handler and finally block).
      closing ??= (async () => {
        await Promise.all([...listeners].map((listener) => listener.close()));
        await processor.close();
        if (!resolved.sql) await store.close();
      })();
      return closing;
    },
  };
}

/**
 * The server's own database: PostgreSQL when `database` names one, else the embedded one in `dataDir`.
 * @throws OmniPersonaError `STORAGE_UNAVAILABLE` when it cannot be opened or reached.
 */
async function openDatabase(options: ResolvedSyncServerOptions): Promise<SqlClient> {
  const { database, dataDir } = options;
  try {
    return database === undefined ? await createPgliteClient(dataDir) : await createPostgresClient(database);
  } catch (error) {
    const where = database === undefined ? dataDir : withoutPassword(database);
    throw toOmniPersonaError(error, 'STORAGE_UNAVAILABLE', `Could not open the database at ${where}`);
  }
}

/** A connection URL fit for a log line: its password masked. */
function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'the configured PostgreSQL URL';
  }
}
