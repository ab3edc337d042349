import type { CatalogItem } from '../../core/catalog.js';
import { OmniPersonaError } from '../../core/errors.js';
import type { ModelConfig } from '../../core/model/model-spec.js';
import type { WeightSet } from '../../core/model/weights.js';
import { type CoVisitRows, MODEL_METADATA } from '../../core/sync/protocol.js';
import { decodeTensors, encodeTensors } from '../../core/sync/tensor-codec.js';
import type { ServerAdamState } from '../server-optimizer.js';
import { sha256Hex } from './sha256-hex.js';
import type { SqlQueryable } from './sql-client.js';
import type { CatalogRecord, ModelDraft, ModelRecord } from './sync-store.js';

// The sync store's rows: read and written through any SqlQueryable, a transaction's or the client's.

interface ModelRow {
  version: number;
  config: ModelConfig;
  catalog_version: number;
  updates: number;
  noisy_rounds: number;
  plain_rounds: number;
  privacy_loss: number;
  digest: string;
  created_at: Date;
}

interface CatalogRow {
  version: number;
  items: CatalogItem[];
  co_visits: CoVisitRows | null;
  created_at: Date;
}

const MODEL_COLUMNS =
  'version, config, catalog_version, updates, noisy_rounds, plain_rounds, privacy_loss, digest, created_at';
/** Stored weights are trusted, but a corrupt row should not exhaust memory. */
export const STORED_LIMITS = { maxBytes: 2 ** 31, maxTensors: 64 };

/** The optimizer state the round that made `version` left; undefined when another write made it. */
export async function readOptimizer(sql: SqlQueryable, version: number): Promise<ServerAdamState | undefined> {
  const [row] = await sql.query<{ steps: number; moments: Uint8Array }>(
    'SELECT steps, moments FROM omnipersona_server_optimizer WHERE id = 1 AND model_version = $1',
    [version],
  );
  if (!row) return undefined;
  const state: ServerAdamState = { steps: row.steps, first: {}, second: {} };
  for (const [key, tensor] of Object.entries(decodeTensors(row.moments, STORED_LIMITS).tensors)) {
    const [moment, name] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
    if (moment === 'first') state.first[name] = tensor;
    else if (moment === 'second') state.second[name] = tensor;
  }
  return state;
}

export async function writeOptimizer(sql: SqlQueryable, version: number, state: ServerAdamState): Promise<void> {
  const tensors: WeightSet = {};
  for (const [name, tensor] of Object.entries(state.first)) tensors[`first/${name}`] = tensor;
  for (const [name, tensor] of Object.entries(state.second)) tensors[`second/${name}`] = tensor;
  await sql.query(
    `INSERT INTO omnipersona_server_optimizer (id, model_version, steps, moments) VALUES (1, $1, $2, $3)
     ON CONFLICT (id) DO UPDATE SET model_version = $1, steps = $2, moments = $3`,
    [version, state.steps, encodeTensors(tensors)],
  );
}

export async function readCatalog(sql: SqlQueryable): Promise<CatalogRecord | undefined> {
  const [row] = await sql.query<CatalogRow>(
    'SELECT version, items, co_visits, created_at FROM omnipersona_catalog_versions ORDER BY version DESC LIMIT 1',
  );
  return row && catalogRecord(row.version, row.items, row.co_visits ?? undefined, row.created_at);
}

/** The current catalog's version, 0 before the first. */
export async function readCatalogVersion(sql: SqlQueryable): Promise<number> {
  const [row] = await sql.query<{ version: number | null }>(
    'SELECT max(version) AS version FROM omnipersona_catalog_versions',
  );
  return row?.version ?? 0;
}

function catalogRecord(
  version: number,
  items: CatalogItem[],
  coVisits: CoVisitRows | undefined,
  createdAt: Date,
): CatalogRecord {
  return { version, items, ...(coVisits ? { coVisits } : {}), createdAt };
}

export async function readModel(sql: SqlQueryable, version?: number): Promise<ModelRecord | undefined> {
  const [row] =
    version === undefined
      ? await sql.query<ModelRow>(
          `SELECT ${MODEL_COLUMNS} FROM omnipersona_model_versions ORDER BY version DESC LIMIT 1`,
        )
      : await sql.query<ModelRow>(`SELECT ${MODEL_COLUMNS} FROM omnipersona_model_versions WHERE version = $1`, [
          version,
        ]);
  return row && modelRecord(row);
}

/**
 * The current model's version and how many updates its round holds so far, stored as received or
 * inside sums, in one statement: what every write of updates reads first. The version's record
 * never changes, so the writer takes it from memory.
 */
export async function readRound(sql: SqlQueryable): Promise<{ version: number; pending: number } | undefined> {
  const [row] = await sql.query<{ version: number; pending: number | string }>(
    `SELECT m.version,
       (SELECT count(*) FROM omnipersona_pending_updates WHERE round_version = m.version)
         + (SELECT coalesce(sum(updates), 0) FROM omnipersona_round_sums WHERE round_version = m.version) AS pending
     FROM omnipersona_model_versions m ORDER BY version DESC LIMIT 1`,
  );
  return row && { version: row.version, pending: Number(row.pending) };
}

function modelRecord(row: ModelRow): ModelRecord {
  return {
    version: row.version,
    config: row.config,
    catalogVersion: row.catalog_version,
    updates: row.updates,
    rounds: { noisy: row.noisy_rounds, plain: row.plain_rounds, privacyLoss: row.privacy_loss },
    digest: row.digest,
    createdAt: row.created_at,
  };
}

export async function loadWeights(sql: SqlQueryable, version: number): Promise<WeightSet> {
  const [row] = await sql.query<{ weights: Uint8Array }>(
    'SELECT weights FROM omnipersona_model_versions WHERE version = $1',
    [version],
  );
  const weights = stored(row?.weights);
  if (!weights) throw new OmniPersonaError('INTERNAL', `Model version ${version} has no stored weights`);
  return decodeTensors(weights, STORED_LIMITS).tensors;
}

/** Stored weights, or undefined for a version whose weights were dropped (an empty value). */
export function stored(weights: Uint8Array | undefined): Uint8Array | undefined {
  return weights && weights.length > 0 ? weights : undefined;
}

export async function insertCatalog(
  sql: SqlQueryable,
  version: number,
  items: CatalogItem[],
  coVisits?: CoVisitRows,
): Promise<CatalogRecord> {
  const [row] = await sql.query<{ created_at: Date }>(
    'INSERT INTO omnipersona_catalog_versions (version, items, co_visits) VALUES ($1, $2, $3) RETURNING created_at',
    [version, JSON.stringify(items), coVisits ? JSON.stringify(coVisits) : null],
  );
  return catalogRecord(version, items, coVisits, row?.created_at ?? new Date());
}

export async function insertModel(
  sql: SqlQueryable,
  version: number,
  catalogVersion: number,
  draft: ModelDraft,
  keep: number,
): Promise<ModelRecord> {
  const bytes = encodeTensors(draft.weights, {
    [MODEL_METADATA.version]: String(version),
    [MODEL_METADATA.catalogVersion]: String(catalogVersion),
  });
  const digest = await sha256Hex(bytes);
  const [row] = await sql.query<{ created_at: Date }>(
    `INSERT INTO omnipersona_model_versions
       (version, config, catalog_version, weights, digest, updates, noisy_rounds, plain_rounds, privacy_loss)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING created_at`,
    [
      version,
      JSON.stringify(draft.config),
      catalogVersion,
      bytes,
      digest,
      draft.updates,
      draft.rounds.noisy,
      draft.rounds.plain,
      draft.rounds.privacyLoss,
    ],
  );
  // Updates waiting for an older version's round cannot be averaged into this one.
  await sql.query('DELETE FROM omnipersona_pending_updates WHERE round_version < $1', [version]);
  await sql.query('DELETE FROM omnipersona_round_sums WHERE round_version < $1', [version]);
  // Only the most recent versions keep their weights; their records stay, for the history.
  await sql.query(
    "UPDATE omnipersona_model_versions SET weights = ''::bytea WHERE version <= $1 AND octet_length(weights) > 0",
    [version - keep],
  );
  return {
    version,
    config: draft.config,
    catalogVersion,
    updates: draft.updates,
    rounds: { ...draft.rounds },
    digest,
    createdAt: row?.created_at ?? new Date(),
  };
}
