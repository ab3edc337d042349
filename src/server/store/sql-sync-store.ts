import type { CatalogItem } from '../../core/catalog.js';
import { OmniPersonaError } from '../../core/errors.js';
import type { ModelConfig } from '../../core/model/model-spec.js';
import type { WeightSet } from '../../core/model/weights.js';
import { MODEL_METADATA } from '../../core/sync/protocol.js';
import { decodeTensors, encodeTensors } from '../../core/sync/tensor-codec.js';
import { migrate, WRITE_LOCK_SQL } from './migrations.js';
import { sha256Hex } from './sha256-hex.js';
import type { SqlClient, SqlQueryable } from './sql-client.js';
import type {
  CatalogRecord,
  ModelDraft,
  ModelRecord,
  PendingUpdate,
  RoundPolicy,
  StoreChange,
  StoreState,
  SyncStore,
  UpdateOutcome,
} from './sync-store.js';

interface ModelRow {
  version: number;
  config: ModelConfig;
  catalog_version: number;
  updates: number;
  digest: string;
  created_at: Date;
}

interface CatalogRow {
  version: number;
  items: CatalogItem[];
  created_at: Date;
}

const MODEL_COLUMNS = 'version, config, catalog_version, updates, digest, created_at';
/** Stored weights are trusted, but a corrupt row should not exhaust memory. */
const STORED_LIMITS = { maxBytes: 2 ** 31, maxTensors: 64 };

/**
 * {@link SyncStore} in PostgreSQL through any {@link SqlClient}. Every write takes one advisory lock
 * inside its transaction, so concurrent requests, and servers sharing the database, aggregate each
 * round exactly once.
 */
export class SqlSyncStore implements SyncStore {
  readonly #sql: SqlClient;

  private constructor(sql: SqlClient) {
    this.#sql = sql;
  }

  /** Migrates the schema and returns the store. */
  static async open(sql: SqlClient): Promise<SqlSyncStore> {
    await migrate(sql);
    return new SqlSyncStore(sql);
  }

  currentCatalog(): Promise<CatalogRecord | undefined> {
    return readCatalog(this.#sql);
  }

  currentModel(): Promise<ModelRecord | undefined> {
    return readModel(this.#sql);
  }

  model(version: number): Promise<ModelRecord | undefined> {
    return readModel(this.#sql, version);
  }

  async modelWeights(version: number): Promise<Uint8Array | undefined> {
    const rows = await this.#sql.query<{ weights: Uint8Array }>(
      'SELECT weights FROM omnipersona_model_versions WHERE version = $1',
      [version],
    );
    return rows[0]?.weights;
  }

  commit(plan: (state: StoreState) => Promise<StoreChange> | StoreChange) {
    return this.#sql.transaction(async (tx) => {
      await tx.query(WRITE_LOCK_SQL);
      const catalog = await readCatalog(tx);
      const model = await readModel(tx);
      const change = await plan({
        catalog,
        model,
        weights: async () => (model ? loadWeights(tx, model.version) : undefined),
      });
      const result: { catalog?: CatalogRecord; model?: ModelRecord } = {};
      if (change.catalog) result.catalog = await insertCatalog(tx, (catalog?.version ?? 0) + 1, change.catalog);
      if (change.model) {
        const catalogVersion = result.catalog?.version ?? catalog?.version ?? 0;
        result.model = await insertModel(tx, (model?.version ?? 0) + 1, catalogVersion, change.model);
      }
      return result;
    });
  }

  submitUpdate(update: PendingUpdate, policy: RoundPolicy): Promise<UpdateOutcome> {
    return this.#sql.transaction(async (tx) => {
      await tx.query(WRITE_LOCK_SQL);
      const current = await readModel(tx);
      const base = update.baseVersion;
      if (!current || base < 1 || base > current.version) {
        throw new OmniPersonaError(
          'NOT_FOUND',
          `Base model version ${base} does not exist; the current version is ${current?.version ?? 'none'}`,
        );
      }
      if (base < current.version) {
        throw new OmniPersonaError(
          'STALE_UPDATE',
          `Update is based on model version ${base}, but the current version is ${current.version}: download it and train again`,
        );
      }
      await tx.query('INSERT INTO omnipersona_pending_updates (base_version, examples, payload) VALUES ($1, $2, $3)', [
        base,
        update.examples,
        encodeTensors(update.delta),
      ]);
      const [count] = await tx.query<{ n: number }>(
        'SELECT count(*)::integer AS n FROM omnipersona_pending_updates WHERE base_version = $1',
        [base],
      );
      const pending = count?.n ?? 0;
      if (pending < policy.size) return { version: current.version, pending };

      const rows = await tx.query<{ examples: number; payload: Uint8Array }>(
        'SELECT examples, payload FROM omnipersona_pending_updates WHERE base_version = $1 ORDER BY id',
        [base],
      );
      const updates = rows.map((row) => ({
        baseVersion: base,
        examples: row.examples,
        delta: decodeTensors(row.payload, STORED_LIMITS).tensors,
      }));
      const weights = policy.aggregate(await loadWeights(tx, base), updates);
      const next = await insertModel(tx, base + 1, current.catalogVersion, {
        config: current.config,
        weights,
        updates: current.updates + updates.length,
      });
      return { version: next.version, pending: 0 };
    });
  }

  close(): Promise<void> {
    return this.#sql.close();
  }
}

async function readCatalog(sql: SqlQueryable): Promise<CatalogRecord | undefined> {
  const [row] = await sql.query<CatalogRow>(
    'SELECT version, items, created_at FROM omnipersona_catalog_versions ORDER BY version DESC LIMIT 1',
  );
  return row && { version: row.version, items: row.items, createdAt: row.created_at };
}

async function readModel(sql: SqlQueryable, version?: number): Promise<ModelRecord | undefined> {
  const [row] =
    version === undefined
      ? await sql.query<ModelRow>(
          `SELECT ${MODEL_COLUMNS} FROM omnipersona_model_versions ORDER BY version DESC LIMIT 1`,
        )
      : await sql.query<ModelRow>(`SELECT ${MODEL_COLUMNS} FROM omnipersona_model_versions WHERE version = $1`, [
          version,
        ]);
  return (
    row && {
      version: row.version,
      config: row.config,
      catalogVersion: row.catalog_version,
      updates: row.updates,
      digest: row.digest,
      createdAt: row.created_at,
    }
  );
}

async function loadWeights(sql: SqlQueryable, version: number): Promise<WeightSet> {
  const [row] = await sql.query<{ weights: Uint8Array }>(
    'SELECT weights FROM omnipersona_model_versions WHERE version = $1',
    [version],
  );
  if (!row) throw new OmniPersonaError('INTERNAL', `Model version ${version} has no stored weights`);
  return decodeTensors(row.weights, STORED_LIMITS).tensors;
}

async function insertCatalog(sql: SqlQueryable, version: number, items: CatalogItem[]): Promise<CatalogRecord> {
  const [row] = await sql.query<{ created_at: Date }>(
    'INSERT INTO omnipersona_catalog_versions (version, items) VALUES ($1, $2) RETURNING created_at',
    [version, JSON.stringify(items)],
  );
  return { version, items, createdAt: row?.created_at ?? new Date() };
}

async function insertModel(
  sql: SqlQueryable,
  version: number,
  catalogVersion: number,
  draft: ModelDraft,
): Promise<ModelRecord> {
  const bytes = encodeTensors(draft.weights, {
    [MODEL_METADATA.version]: String(version),
    [MODEL_METADATA.catalogVersion]: String(catalogVersion),
  });
  const digest = await sha256Hex(bytes);
  const [row] = await sql.query<{ created_at: Date }>(
    `INSERT INTO omnipersona_model_versions (version, config, catalog_version, weights, digest, updates)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING created_at`,
    [version, JSON.stringify(draft.config), catalogVersion, bytes, digest, draft.updates],
  );
  // Updates trained on an older model cannot be averaged into this one.
  await sql.query('DELETE FROM omnipersona_pending_updates WHERE base_version < $1', [version]);
  return {
    version,
    config: draft.config,
    catalogVersion,
    updates: draft.updates,
    digest,
    createdAt: row?.created_at ?? new Date(),
  };
}
