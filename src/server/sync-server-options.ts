import { availableParallelism } from 'node:os';
import * as v from 'valibot';
import { OmniPersonaError } from '../core/errors.js';
import { formatIssues } from './format-issues.js';
import { MIN_SITE_SECRET_LENGTH } from './shopper-token.js';
import { isPostgresUrl } from './store/postgres-client.js';
import type { SqlClient } from './store/sql-client.js';

/** Where the server reports what it cannot answer a request with. */
export interface SyncServerLogger {
  info(message: string): void;
  error(message: string, error?: unknown): void;
}

/** Options of {@link createSyncServer}. Every one is optional. */
export interface SyncServerOptions {
  /**
   * Folder of the embedded PostgreSQL (PGlite) database, created when missing; `'memory://'` keeps
   * everything in memory. One process at a time may open it. Ignored when `sql` is given.
   * @default './.omnipersona'
   */
  dataDir?: string;
  /**
   * A PostgreSQL server to keep everything in instead of the embedded database, as a connection URL
   * (`postgres://user:password@host:5432/db`), so that several server processes behind a load balancer
   * share one state. The server migrates its schema (tables prefixed `omnipersona_`) and closes its
   * connections on `close()`. Ignored when `sql` is given.
   */
  database?: string;
  /**
   * A PostgreSQL client to use instead of the embedded database (for servers sharing one database).
   * The server migrates its schema but does not close the client.
   */
  sql?: SqlClient;
  /** Updates averaged into each new global model version (one FedAvg round). @default 20 */
  roundSize?: number;
  /** Embedding width of the model the server initialises for a new catalog. @default 32 */
  modelDim?: number;
  /**
   * Operator token for `PUT /v1/catalog`, `PUT /v1/model` and `GET /v1/model/prior`
   * (`Authorization: Bearer <token>`). When unset, those routes answer 403 and only the host process
   * (or the CLI) can publish or export.
   */
  adminToken?: string;
  /**
   * The secret the shop's backend signs shopper tokens with (at least 32 characters; see
   * `signShopperToken`). Without it the shopper routes answer 403: no cross-channel state.
   */
  siteSecret?: string;
  /** Events kept per signed-in shopper, the most recent ones. @default 1000 */
  maxShopperEvents?: number;
  /** Largest update payload accepted, in bytes. @default 16 MiB */
  maxUpdateBytes?: number;
  /** Largest model payload an operator may publish, in bytes. @default 512 MiB */
  maxModelBytes?: number;
  /** Largest catalog document an operator may publish, in bytes. @default 256 MiB */
  maxCatalogBytes?: number;
  /**
   * Updates whose L2 norm exceeds this are scaled down to it, bounding any one device's influence:
   * DP-FedAvg's clip norm C. Devices read it from the manifest and clip theirs before sending.
   * @default 10
   */
  maxUpdateNorm?: number;
  /**
   * DP-FedAvg's noise multiplier z: each round's sum of clipped updates gets Gaussian noise of
   * standard deviation z·C, and every update weighs the same. The manifest reports the ε spent.
   * Noise of z·C/K per value only leaves a model learning with large rounds (K in the thousands for
   * z near 1); 0 turns it off. @default 0
   */
  noiseMultiplier?: number;
  /** The δ the manifest's ε is stated at. @default 1e-5 */
  privacyDelta?: number;
  /**
   * An update weighs as many examples as it learnt from, up to this many: together with the clip
   * norm it bounds how far one device, honest or not, moves a round (at most this weight over the
   * round's total, times the clip norm). @default 100
   */
  maxUpdateWeight?: number;
  /**
   * How many versions an update's base may lag behind the current one and still count: it joins
   * the current round, its delta applied to the current weights with its weight divided by one plus
   * the lag. Older updates are refused with 409 `STALE_UPDATE`, as are ones from a model of another
   * shape. 0 refuses every update not based on the current version. @default 0
   */
  maxStaleness?: number;
  /**
   * Model versions whose weights are kept, the most recent ones; older versions keep their record
   * but not their weights, which a device asks for in vain (404) and so downloads the current one.
   * Each round writes a version, so without a bound the store grows by a model per round. Must
   * exceed `maxStaleness`. @default 32
   */
  keepModelVersions?: number;
  /**
   * How a round's mean update becomes the next version: `adam` feeds it to the server's Adam
   * (FedAdam, its moments kept with the versions), as the federated evaluation does; `mean` adds it
   * as it is (plain FedAvg), for rounds so small that each is one device (a demo). @default 'adam'
   */
  serverOptimizer?: 'adam' | 'mean';
  /** The server Adam's step size. @default 0.02 */
  serverLearningRate?: number;
  /**
   * Worker threads that decode, check and sum updates, beside the thread that serves HTTP and
   * writes the database; 0 does that work on the server's own thread. @default one fewer than the
   * machine's cores, at least 1 and at most 4
   */
  updateWorkers?: number;
  /** Origins allowed to call the server from a browser: `'*'` or a list. @default '*' */
  corsOrigins?: string | string[];
  /** @default console */
  logger?: SyncServerLogger;
}

const MiB = 1024 * 1024;

/** The defaults of {@link SyncServerOptions}, in one place. */
export const SYNC_SERVER_DEFAULTS = {
  dataDir: './.omnipersona',
  roundSize: 20,
  modelDim: 64,
  maxUpdateBytes: 16 * MiB,
  maxModelBytes: 512 * MiB,
  maxCatalogBytes: 256 * MiB,
  maxUpdateNorm: 10,
  noiseMultiplier: 0,
  privacyDelta: 1e-5,
  serverOptimizer: 'adam',
  serverLearningRate: 0.02,
  maxUpdateWeight: 100,
  maxStaleness: 0,
  keepModelVersions: 32,
  maxShopperEvents: 1000,
  corsOrigins: '*',
} as const;

/** {@link SyncServerOptions.updateWorkers} unless set: the cores the HTTP thread leaves, up to 4. */
function defaultUpdateWorkers(): number {
  return Math.min(4, Math.max(1, availableParallelism() - 1));
}

const Bytes = v.pipe(v.number(), v.safeInteger(), v.minValue(1024), v.maxValue(2 ** 31 - 1));

const OptionsSchema = v.object({
  dataDir: v.optional(v.pipe(v.string(), v.minLength(1)), SYNC_SERVER_DEFAULTS.dataDir),
  database: v.optional(v.pipe(v.string(), v.check(isPostgresUrl, 'Expected a postgres:// or postgresql:// URL'))),
  roundSize: v.optional(
    v.pipe(v.number(), v.safeInteger(), v.minValue(1), v.maxValue(100_000)),
    SYNC_SERVER_DEFAULTS.roundSize,
  ),
  modelDim: v.optional(
    v.pipe(v.number(), v.safeInteger(), v.minValue(1), v.maxValue(1024)),
    SYNC_SERVER_DEFAULTS.modelDim,
  ),
  adminToken: v.optional(v.pipe(v.string(), v.minLength(8, 'Expected an admin token of at least 8 characters'))),
  siteSecret: v.optional(
    v.pipe(
      v.string(),
      v.minLength(MIN_SITE_SECRET_LENGTH, `Expected a site secret of at least ${MIN_SITE_SECRET_LENGTH} characters`),
    ),
  ),
  maxShopperEvents: v.optional(
    v.pipe(v.number(), v.safeInteger(), v.minValue(50), v.maxValue(100_000)),
    SYNC_SERVER_DEFAULTS.maxShopperEvents,
  ),
  maxUpdateBytes: v.optional(Bytes, SYNC_SERVER_DEFAULTS.maxUpdateBytes),
  maxModelBytes: v.optional(Bytes, SYNC_SERVER_DEFAULTS.maxModelBytes),
  maxCatalogBytes: v.optional(Bytes, SYNC_SERVER_DEFAULTS.maxCatalogBytes),
  maxUpdateNorm: v.optional(v.pipe(v.number(), v.finite(), v.gtValue(0)), SYNC_SERVER_DEFAULTS.maxUpdateNorm),
  noiseMultiplier: v.optional(
    v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(1000)),
    SYNC_SERVER_DEFAULTS.noiseMultiplier,
  ),
  serverOptimizer: v.optional(v.picklist(['adam', 'mean']), SYNC_SERVER_DEFAULTS.serverOptimizer),
  maxStaleness: v.optional(
    v.pipe(v.number(), v.safeInteger(), v.minValue(0), v.maxValue(100)),
    SYNC_SERVER_DEFAULTS.maxStaleness,
  ),
  keepModelVersions: v.optional(
    v.pipe(v.number(), v.safeInteger(), v.minValue(2), v.maxValue(1_000_000)),
    SYNC_SERVER_DEFAULTS.keepModelVersions,
  ),
  maxUpdateWeight: v.optional(
    v.pipe(v.number(), v.safeInteger(), v.minValue(1), v.maxValue(10_000)),
    SYNC_SERVER_DEFAULTS.maxUpdateWeight,
  ),
  serverLearningRate: v.optional(
    v.pipe(v.number(), v.finite(), v.gtValue(0), v.maxValue(1)),
    SYNC_SERVER_DEFAULTS.serverLearningRate,
  ),
  privacyDelta: v.optional(
    v.pipe(v.number(), v.gtValue(0), v.maxValue(0.01, 'Expected a δ of at most 0.01')),
    SYNC_SERVER_DEFAULTS.privacyDelta,
  ),
  updateWorkers: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(0), v.maxValue(64)), defaultUpdateWorkers),
  corsOrigins: v.optional(
    v.union([v.pipe(v.string(), v.minLength(1)), v.pipe(v.array(v.pipe(v.string(), v.minLength(1))), v.minLength(1))]),
    SYNC_SERVER_DEFAULTS.corsOrigins,
  ),
});

/** Options with every default applied. */
export type ResolvedSyncServerOptions = v.InferOutput<typeof OptionsSchema> & {
  sql: SqlClient | undefined;
  logger: SyncServerLogger;
};

/**
 * Validates options and applies the defaults.
 * @throws OmniPersonaError `INVALID_OPTIONS` naming the wrong option.
 */
export function resolveSyncServerOptions(options: SyncServerOptions = {}): ResolvedSyncServerOptions {
  const { sql, logger, ...data } = options;
  const result = v.safeParse(OptionsSchema, data);
  if (!result.success) {
    throw new OmniPersonaError('INVALID_OPTIONS', `Invalid sync server options: ${formatIssues(result.issues)}`);
  }
  const { keepModelVersions, maxStaleness } = result.output;
  if (keepModelVersions <= maxStaleness) {
    throw new OmniPersonaError(
      'INVALID_OPTIONS',
      `Invalid sync server options: keepModelVersions (${keepModelVersions}) must exceed maxStaleness (${maxStaleness})`,
    );
  }
  return { ...result.output, sql, logger: logger ?? console };
}
