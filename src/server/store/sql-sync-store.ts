import type { CatalogItem } from '../../core/catalog.js';
import { OmniPersonaError } from '../../core/errors.js';
import type { ModelConfig } from '../../core/model/model-spec.js';
import type { WeightSet } from '../../core/model/weights.js';
import {
  MODEL_METADATA,
  type ShopperEventsPage,
  type ShopperEventsReceipt,
  type SyncedEvent,
} from '../../core/sync/protocol.js';
import { decodeTensors, encodeTensors } from '../../core/sync/tensor-codec.js';
import type { ServerAdamState } from '../server-optimizer.js';
import { migrate, WRITE_LOCK_SQL } from './migrations.js';
import { sha256Hex } from './sha256-hex.js';
import type { SqlClient, SqlQueryable } from './sql-client.js';
import type {
  CatalogRecord,
  ModelDraft,
  ModelRecord,
  PendingUpdate,
  RoundCounts,
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
  noisy_rounds: number;
  plain_rounds: number;
  privacy_loss: number;
  digest: string;
  created_at: Date;
}

interface CatalogRow {
  version: number;
  items: CatalogItem[];
  created_at: Date;
}

const MODEL_COLUMNS =
  'version, config, catalog_version, updates, noisy_rounds, plain_rounds, privacy_loss, digest, created_at';
/** Stored weights are trusted, but a corrupt row should not exhaust memory. */
const STORED_LIMITS = { maxBytes: 2 ** 31, maxTensors: 64 };

/**
 * {@link SyncStore} in PostgreSQL through any {@link SqlClient}. Every write takes one advisory lock
 * inside its transaction, so concurrent requests, and servers sharing the database, aggregate each
 * round exactly once.
 */
/** How a {@link SqlSyncStore} keeps its history. */
export interface SqlSyncStoreOptions {
  /** Model versions whose weights are kept, the most recent ones. @default 32 */
  keepModelVersions?: number;
}

export class SqlSyncStore implements SyncStore {
  readonly #sql: SqlClient;
  readonly #keep: number;
  readonly #queued: QueuedUpdate[] = [];
  readonly #records = new Map<number, ModelRecord>();
  #writing = false;

  private constructor(sql: SqlClient, keep: number) {
    this.#sql = sql;
    this.#keep = keep;
  }

  /** Migrates the schema and returns the store. */
  static async open(sql: SqlClient, { keepModelVersions = 32 }: SqlSyncStoreOptions = {}): Promise<SqlSyncStore> {
    await migrate(sql);
    return new SqlSyncStore(sql, keepModelVersions);
  }

  currentCatalog(): Promise<CatalogRecord | undefined> {
    return readCatalog(this.#sql);
  }

  currentModel(): Promise<ModelRecord | undefined> {
    return readModel(this.#sql);
  }

  /** From memory after the first read: a version's record never changes. */
  async model(version: number): Promise<ModelRecord | undefined> {
    const known = this.#records.get(version);
    if (known) return known;
    const record = await readModel(this.#sql, version);
    if (record) {
      if (this.#records.size >= KNOWN_RECORDS) this.#records.delete(this.#records.keys().next().value as number);
      this.#records.set(version, record);
    }
    return record;
  }

  async modelWeights(version: number): Promise<Uint8Array | undefined> {
    const rows = await this.#sql.query<{ weights: Uint8Array }>(
      'SELECT weights FROM omnipersona_model_versions WHERE version = $1',
      [version],
    );
    return stored(rows[0]?.weights);
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
        result.model = await insertModel(tx, (model?.version ?? 0) + 1, catalogVersion, change.model, this.#keep);
      }
      return result;
    });
  }

  /**
   * Group commit: updates that arrive while a transaction is writing wait for it, then go together
   * in the next one (at most {@link UPDATES_PER_TRANSACTION}), each checked and counted in arrival
   * order as if alone. Under load, one lock and one commit serve many updates.
   */
  submitUpdate(update: PendingUpdate, policy: RoundPolicy): Promise<UpdateOutcome> {
    return new Promise((resolve, reject) => {
      this.#queued.push({ update, policy, resolve, reject });
      if (!this.#writing) void this.#writeQueued();
    });
  }

  async #writeQueued(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queued.length > 0) {
        // Let requests already received reach the queue first: the embedded database runs on this
        // thread, so none is read while a write runs, and without this pause each would go alone.
        await new Promise((resolve) => setImmediate(resolve));
        const batch = this.#queued.splice(0, UPDATES_PER_TRANSACTION);
        let outcomes: Array<UpdateOutcome | OmniPersonaError>;
        try {
          outcomes = await this.#sql.transaction(async (tx) => {
            await tx.query(WRITE_LOCK_SQL);
            const round = await RoundWriter.open(tx, this.#keep, (version) => this.model(version));
            const results: Array<UpdateOutcome | OmniPersonaError> = [];
            for (const { update, policy } of batch) results.push(await round.add(update, policy).catch(refusal));
            return results;
          });
        } catch (error) {
          for (const item of batch) item.reject(error);
          continue;
        }
        batch.forEach((item, index) => {
          const outcome = outcomes[index] as UpdateOutcome | OmniPersonaError;
          if (outcome instanceof OmniPersonaError) item.reject(outcome);
          else item.resolve(outcome);
        });
      }
    } finally {
      this.#writing = false;
    }
  }

  appendShopperEvents(userId: string, events: readonly SyncedEvent[], keep: number): Promise<ShopperEventsReceipt> {
    return this.#sql.transaction(async (tx) => {
      // The shopper's row lock, not the store's write lock: shoppers never wait on a model round.
      await tx.query('INSERT INTO omnipersona_shoppers (user_id, version) VALUES ($1, 0) ON CONFLICT DO NOTHING', [
        userId,
      ]);
      const [row] = await tx.query<{ version: number }>(
        'SELECT version FROM omnipersona_shoppers WHERE user_id = $1 FOR UPDATE',
        [userId],
      );
      const current = row?.version ?? 0;
      if (events.length === 0) return { version: current, added: 0 };
      const [sequence] = await tx.query<{ next: number }>(
        "SELECT nextval('omnipersona_shopper_versions')::integer AS next",
      );
      const next = sequence?.next ?? current + 1;
      const added = await tx.query<{ id: string }>(
        `INSERT INTO omnipersona_shopper_events (user_id, id, version, time, event)
         SELECT $1, e->>'id', $2, (e->>'time')::bigint, e FROM jsonb_array_elements($3::jsonb) AS e
         ON CONFLICT (user_id, id) DO NOTHING RETURNING id`,
        [userId, next, JSON.stringify(events)],
      );
      if (added.length === 0) return { version: current, added: 0 };
      await tx.query('UPDATE omnipersona_shoppers SET version = $2, updated_at = now() WHERE user_id = $1', [
        userId,
        next,
      ]);
      await tx.query(
        `DELETE FROM omnipersona_shopper_events WHERE user_id = $1 AND id IN (
           SELECT id FROM omnipersona_shopper_events WHERE user_id = $1 ORDER BY time DESC, id DESC OFFSET $2)`,
        [userId, keep],
      );
      return { version: next, added: added.length };
    });
  }

  async shopperEvents(userId: string, after: number, limit: number): Promise<ShopperEventsPage> {
    // The version first: a write that commits between the two reads is read again next time, never missed.
    const [shopper] = await this.#sql.query<{ version: number }>(
      'SELECT version FROM omnipersona_shoppers WHERE user_id = $1',
      [userId],
    );
    const rows = await this.#sql.query<{ version: number; event: SyncedEvent }>(
      `SELECT version, event FROM omnipersona_shopper_events WHERE user_id = $1 AND version > $2
       ORDER BY version, time, id LIMIT $3`,
      [userId, after, limit + 1],
    );
    const more = rows.length > limit;
    if (more) {
      // Only whole versions: the last one may be cut short.
      const cut = rows[limit]?.version ?? after;
      while (rows.length > 0 && (rows.at(-1)?.version ?? 0) >= cut) rows.pop();
      // A version over `limit` events cannot be written, but a page must still move forward.
      if (rows.length === 0) throw new OmniPersonaError('INTERNAL', `Shopper log version ${cut} exceeds a page`);
    }
    const last = rows.at(-1)?.version ?? after;
    return {
      events: rows.map((row) => row.event),
      version: more ? last : Math.max(last, shopper?.version ?? 0, after),
      more,
    };
  }

  async forgetShopper(userId: string): Promise<boolean> {
    const rows = await this.#sql.query('DELETE FROM omnipersona_shoppers WHERE user_id = $1 RETURNING user_id', [
      userId,
    ]);
    return rows.length > 0;
  }

  close(): Promise<void> {
    return this.#sql.close();
  }
}

/** Model records kept in memory, by version. */
const KNOWN_RECORDS = 64;

/** Updates written by one transaction at most, so that a burst never holds the lock for long. */
const UPDATES_PER_TRANSACTION = 256;

interface QueuedUpdate {
  update: PendingUpdate;
  policy: RoundPolicy;
  resolve: (outcome: UpdateOutcome) => void;
  reject: (error: unknown) => void;
}

/** An update's own refusal (unknown or stale base), which leaves the transaction usable for the others. */
function refusal(error: unknown): OmniPersonaError {
  if (error instanceof OmniPersonaError && (error.code === 'NOT_FOUND' || error.code === 'STALE_UPDATE')) return error;
  throw error;
}

/**
 * The current round inside one write transaction that holds the write lock: adds updates one by
 * one, and aggregates the round when one completes it, the next round starting at once.
 */
class RoundWriter {
  readonly #tx: SqlQueryable;
  readonly #keep: number;
  readonly #model: (version: number) => Promise<ModelRecord | undefined>;
  #current: ModelRecord | undefined;
  #pending: number;

  private constructor(
    tx: SqlQueryable,
    keep: number,
    model: (version: number) => Promise<ModelRecord | undefined>,
    current: ModelRecord | undefined,
    pending: number,
  ) {
    this.#tx = tx;
    this.#keep = keep;
    this.#model = model;
    this.#current = current;
    this.#pending = pending;
  }

  /** `model` reads a version's record, which never changes (from memory when it can). */
  static async open(
    tx: SqlQueryable,
    keep: number,
    model: (version: number) => Promise<ModelRecord | undefined>,
  ): Promise<RoundWriter> {
    const current = await readModel(tx);
    const [count] = current
      ? await tx.query<{ n: number }>(
          'SELECT count(*)::integer AS n FROM omnipersona_pending_updates WHERE round_version = $1',
          [current.version],
        )
      : [];
    return new RoundWriter(tx, keep, model, current, count?.n ?? 0);
  }

  async add(update: PendingUpdate, policy: RoundPolicy): Promise<UpdateOutcome> {
    const tx = this.#tx;
    const current = this.#current;
    const base = update.baseVersion;
    if (!current || base < 1 || base > current.version) {
      throw new OmniPersonaError(
        'NOT_FOUND',
        `Base model version ${base} does not exist; the current version is ${current?.version ?? 'none'}`,
      );
    }
    const round = current.version;
    if (round - base > policy.maxStaleness) {
      throw new OmniPersonaError(
        'STALE_UPDATE',
        `Update is based on model version ${base}, but the current version is ${round}: download it and train again`,
      );
    }
    if (base < round && !sameShape(await this.#model(base), current)) {
      throw new OmniPersonaError(
        'STALE_UPDATE',
        `Update is based on model version ${base}, whose shape version ${round} no longer has: download it and train again`,
      );
    }
    await tx.query(
      'INSERT INTO omnipersona_pending_updates (base_version, round_version, examples, payload) VALUES ($1, $2, $3, $4)',
      [base, round, update.examples, update.encoded ?? encodeTensors(update.delta, {}, update.storeAs ?? 'F32')],
    );
    this.#pending++;
    if (this.#pending < policy.size) return { version: round, pending: this.#pending };

    const rows = await tx.query<{ base_version: number; examples: number; payload: Uint8Array }>(
      'SELECT base_version, examples, payload FROM omnipersona_pending_updates WHERE round_version = $1 ORDER BY id',
      [round],
    );
    const updates = rows.map((row) => ({
      baseVersion: row.base_version,
      examples: row.examples,
      delta: decodeTensors(row.payload, STORED_LIMITS).tensors,
      staleness: round - row.base_version,
    }));
    const previous = await readOptimizer(tx, round);
    const { weights, optimizer } = await policy.aggregate(await loadWeights(tx, round), updates, previous);
    const next = await insertModel(
      tx,
      round + 1,
      current.catalogVersion,
      {
        config: current.config,
        weights,
        updates: current.updates + updates.length,
        rounds: addRound(current.rounds, policy.noiseMultiplier),
      },
      this.#keep,
    );
    if (optimizer) await writeOptimizer(tx, next.version, optimizer);
    this.#current = next;
    this.#pending = 0;
    return { version: next.version, pending: 0 };
  }
}

/** The optimizer state the round that made `version` left; undefined when another write made it. */
async function readOptimizer(sql: SqlQueryable, version: number): Promise<ServerAdamState | undefined> {
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

async function writeOptimizer(sql: SqlQueryable, version: number, state: ServerAdamState): Promise<void> {
  const tensors: WeightSet = {};
  for (const [name, tensor] of Object.entries(state.first)) tensors[`first/${name}`] = tensor;
  for (const [name, tensor] of Object.entries(state.second)) tensors[`second/${name}`] = tensor;
  await sql.query(
    `INSERT INTO omnipersona_server_optimizer (id, model_version, steps, moments) VALUES (1, $1, $2, $3)
     ON CONFLICT (id) DO UPDATE SET model_version = $1, steps = $2, moments = $3`,
    [version, state.steps, encodeTensors(tensors)],
  );
}

/** Whether two versions' weights have the same tensors and shapes. */
function sameShape(a: ModelRecord | undefined, b: ModelRecord): boolean {
  return a !== undefined && JSON.stringify(a.config) === JSON.stringify(b.config);
}

/** `rounds` and one more, with noise of `noiseMultiplier` (0 for none). */
function addRound(rounds: RoundCounts, noiseMultiplier: number): RoundCounts {
  if (!(noiseMultiplier > 0)) return { ...rounds, plain: rounds.plain + 1 };
  return { ...rounds, noisy: rounds.noisy + 1, privacyLoss: rounds.privacyLoss + 1 / noiseMultiplier ** 2 };
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
      rounds: { noisy: row.noisy_rounds, plain: row.plain_rounds, privacyLoss: row.privacy_loss },
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
  const weights = stored(row?.weights);
  if (!weights) throw new OmniPersonaError('INTERNAL', `Model version ${version} has no stored weights`);
  return decodeTensors(weights, STORED_LIMITS).tensors;
}

/** Stored weights, or undefined for a version whose weights were dropped (an empty value). */
function stored(weights: Uint8Array | undefined): Uint8Array | undefined {
  return weights && weights.length > 0 ? weights : undefined;
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
