import type { SqlClient } from './sql-client.js';

/**
 * The schema, as ordered migrations of single statements (portable across drivers).
 * Append new migrations; never edit an applied one. Tables are prefixed so the server can share a database.
 */
const MIGRATIONS: readonly (readonly string[])[] = [
  [
    `CREATE TABLE omnipersona_catalog_versions (
      version integer PRIMARY KEY,
      items jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE TABLE omnipersona_model_versions (
      version integer PRIMARY KEY,
      config jsonb NOT NULL,
      catalog_version integer NOT NULL,
      weights bytea NOT NULL,
      digest text NOT NULL,
      updates integer NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE TABLE omnipersona_pending_updates (
      id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      base_version integer NOT NULL REFERENCES omnipersona_model_versions (version),
      examples integer NOT NULL,
      payload bytea NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    'CREATE INDEX omnipersona_pending_updates_base ON omnipersona_pending_updates (base_version)',
  ],
  [
    // A signed-in shopper's log version: each write that adds events takes the next number of one
    // sequence, under the shopper row's lock, so a shopper's versions commit in order and a reader
    // that asks "after N" misses nothing; after a forget, new versions still exceed old cursors.
    'CREATE SEQUENCE omnipersona_shopper_versions AS integer',
    `CREATE TABLE omnipersona_shoppers (
      user_id text PRIMARY KEY,
      version integer NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE TABLE omnipersona_shopper_events (
      user_id text NOT NULL REFERENCES omnipersona_shoppers (user_id) ON DELETE CASCADE,
      id text NOT NULL,
      version integer NOT NULL,
      time bigint NOT NULL,
      event jsonb NOT NULL,
      PRIMARY KEY (user_id, id)
    )`,
    'CREATE INDEX omnipersona_shopper_events_version ON omnipersona_shopper_events (user_id, version)',
  ],
  [
    // Rounds in each model's history, with and without DP noise: what the privacy accountant counts.
    'ALTER TABLE omnipersona_model_versions ADD COLUMN noisy_rounds integer NOT NULL DEFAULT 0',
    'ALTER TABLE omnipersona_model_versions ADD COLUMN plain_rounds integer NOT NULL DEFAULT 0',
    'ALTER TABLE omnipersona_model_versions ADD COLUMN privacy_loss double precision NOT NULL DEFAULT 0',
  ],
  [
    // The server optimizer's state after the round that made `model_version`: one row, replaced by
    // each round in the transaction that writes the version.
    `CREATE TABLE omnipersona_server_optimizer (
      id integer PRIMARY KEY CHECK (id = 1),
      model_version integer NOT NULL,
      steps integer NOT NULL,
      moments bytea NOT NULL
    )`,
  ],
  [
    // The round an update joined: its base, or a later version when it came in stale.
    'ALTER TABLE omnipersona_pending_updates ADD COLUMN round_version integer',
    'UPDATE omnipersona_pending_updates SET round_version = base_version',
    'ALTER TABLE omnipersona_pending_updates ALTER COLUMN round_version SET NOT NULL',
    'CREATE INDEX omnipersona_pending_updates_round ON omnipersona_pending_updates (round_version)',
  ],
  [
    // Part of a round stored as one sum: Σ weight·delta (float32 tensors) of `updates` updates whose
    // weights add up to `weight`, written instead of the updates themselves when it is smaller.
    `CREATE TABLE omnipersona_round_sums (
      id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      round_version integer NOT NULL,
      updates integer NOT NULL,
      weight double precision NOT NULL,
      payload bytea NOT NULL
    )`,
    'CREATE INDEX omnipersona_round_sums_round ON omnipersona_round_sums (round_version)',
    // Tensors barely compress, and PostgreSQL tried on every write (pglz, on by default) before
    // giving up: stored out of line without trying, writing them takes half the time.
    'ALTER TABLE omnipersona_round_sums ALTER COLUMN payload SET STORAGE EXTERNAL',
    'ALTER TABLE omnipersona_pending_updates ALTER COLUMN payload SET STORAGE EXTERNAL',
    'ALTER TABLE omnipersona_model_versions ALTER COLUMN weights SET STORAGE EXTERNAL',
    'ALTER TABLE omnipersona_server_optimizer ALTER COLUMN moments SET STORAGE EXTERNAL',
  ],
  [
    // A removed event keeps its row, emptied, as a tombstone: pushing its id again adds nothing,
    // and devices that read the log after its version learn to delete it.
    'ALTER TABLE omnipersona_shopper_events ADD COLUMN removed boolean NOT NULL DEFAULT false',
  ],
  [
    // The catalog version's co-visits (`CoVisitRows`, by index into its own items); null for none.
    'ALTER TABLE omnipersona_catalog_versions ADD COLUMN co_visits jsonb',
  ],
];

/**
 * Key of the transaction-scoped advisory lock that serialises every write, across processes sharing
 * the database. A lock rather than `SELECT … FOR UPDATE` because the row a write depends on (the
 * next version) does not exist yet.
 */
export const WRITE_LOCK_SQL = 'SELECT pg_advisory_xact_lock(1330664787)';

/** Brings the schema up to date; safe to run from several processes at once. */
export async function migrate(sql: SqlClient): Promise<void> {
  await sql.transaction(async (tx) => {
    await tx.query(WRITE_LOCK_SQL);
    await tx.query('CREATE TABLE IF NOT EXISTS omnipersona_migrations (id integer PRIMARY KEY)');
    const rows = await tx.query<{ id: number }>('SELECT id FROM omnipersona_migrations');
    const applied = new Set(rows.map((row) => row.id));
    for (const [index, statements] of MIGRATIONS.entries()) {
      if (applied.has(index + 1)) continue;
      for (const statement of statements) await tx.query(statement);
      await tx.query('INSERT INTO omnipersona_migrations (id) VALUES ($1)', [index + 1]);
    }
  });
}
