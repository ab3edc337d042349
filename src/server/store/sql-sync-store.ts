import { OmniPersonaError } from '../../core/errors.js';
import type {
  ShopperEventsPage,
  ShopperEventsReceipt,
  ShopperRemovalsReceipt,
  SyncedEvent,
} from '../../core/sync/protocol.js';
import { migrate, WRITE_LOCK_SQL } from './migrations.js';
import { PayloadCache } from './payload-cache.js';
import { RoundPresums } from './round-presums.js';
import { RoundWriter, refusal } from './round-writer.js';
import type { SqlClient, SqlQueryable } from './sql-client.js';
import {
  insertCatalog,
  insertModel,
  loadWeights,
  readCatalog,
  readCatalogVersion,
  readModel,
  stored,
} from './sql-rows.js';
import type {
  CatalogRecord,
  ModelRecord,
  PendingUpdate,
  RoundPolicy,
  StoreChange,
  StoreState,
  SyncStore,
  UpdateOutcome,
} from './sync-store.js';

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
  readonly #payloads = new PayloadCache();
  readonly #presums = new RoundPresums(this.#payloads);
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

  catalogVersion(): Promise<number> {
    return readCatalogVersion(this.#sql);
  }

  currentModel(): Promise<ModelRecord | undefined> {
    return readModel(this.#sql);
  }

  /** From memory after the first read: a version's record never changes. */
  model(version: number): Promise<ModelRecord | undefined> {
    return this.#model(version, this.#sql);
  }

  /**
   * {@link model}, reading through `sql`: inside a write, its transaction, as the embedded database
   * would wait for the write to end before it answered any other query.
   */
  async #model(version: number, sql: SqlQueryable): Promise<ModelRecord | undefined> {
    const known = this.#records.get(version);
    if (known) return known;
    const record = await readModel(sql, version);
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
      if (change.catalog) {
        const version = (catalog?.version ?? 0) + 1;
        result.catalog = await insertCatalog(tx, version, change.catalog, change.coVisits);
      }
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
          const memory = { payloads: this.#payloads, presums: this.#presums };
          let writer: RoundWriter | undefined;
          outcomes = await this.#sql.transaction(async (tx) => {
            await tx.query(WRITE_LOCK_SQL);
            const round = await RoundWriter.open(tx, this.#keep, (version) => this.#model(version, tx), memory);
            writer = round;
            const results: Array<UpdateOutcome | OmniPersonaError> = [];
            for (const { update, policy } of batch) results.push(await round.add(update, policy).catch(refusal));
            await round.flush();
            return results;
          });
          writer?.committed();
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
      const current = await lockShopper(tx, userId);
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

  removeShopperEvents(userId: string, ids: readonly string[]): Promise<ShopperRemovalsReceipt> {
    return this.#sql.transaction(async (tx) => {
      const current = await lockShopper(tx, userId);
      const [sequence] = await tx.query<{ next: number }>(
        "SELECT nextval('omnipersona_shopper_versions')::integer AS next",
      );
      const next = sequence?.next ?? current + 1;
      const removed = await tx.query<{ id: string }>(
        `INSERT INTO omnipersona_shopper_events (user_id, id, version, time, event, removed)
         SELECT $1, id, $2, $4, jsonb_build_object('id', id), true FROM unnest($3::text[]) AS id
         ON CONFLICT (user_id, id) DO UPDATE
           SET removed = true, version = excluded.version, event = excluded.event
           WHERE NOT omnipersona_shopper_events.removed
         RETURNING id`,
        [userId, next, [...new Set(ids)], Date.now()],
      );
      if (removed.length === 0) return { version: current, removed: 0 };
      await tx.query('UPDATE omnipersona_shoppers SET version = $2, updated_at = now() WHERE user_id = $1', [
        userId,
        next,
      ]);
      return { version: next, removed: removed.length };
    });
  }

  async shopperEvents(userId: string, after: number, limit: number): Promise<ShopperEventsPage> {
    // The version first: a write that commits between the two reads is read again next time, never missed.
    const [shopper] = await this.#sql.query<{ version: number }>(
      'SELECT version FROM omnipersona_shoppers WHERE user_id = $1',
      [userId],
    );
    const rows = await this.#sql.query<{ version: number; event: SyncedEvent; removed: boolean }>(
      `SELECT version, event, removed FROM omnipersona_shopper_events WHERE user_id = $1 AND version > $2
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
    const removed = rows.filter((row) => row.removed).map((row) => row.event.id);
    return {
      events: rows.filter((row) => !row.removed).map((row) => row.event),
      ...(removed.length > 0 ? { removed } : {}),
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

/**
 * Takes the shopper's row lock (creating the row), not the store's write lock: shoppers never wait
 * on a model round. Returns the shopper's log version.
 */
async function lockShopper(tx: SqlQueryable, userId: string): Promise<number> {
  await tx.query('INSERT INTO omnipersona_shoppers (user_id, version) VALUES ($1, 0) ON CONFLICT DO NOTHING', [userId]);
  const [row] = await tx.query<{ version: number }>(
    'SELECT version FROM omnipersona_shoppers WHERE user_id = $1 FOR UPDATE',
    [userId],
  );
  return row?.version ?? 0;
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
