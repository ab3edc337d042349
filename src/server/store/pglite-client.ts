import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import type { SqlClient, SqlQueryable } from './sql-client.js';

/** The `dataDir` value that keeps the embedded database in memory only. */
export const IN_MEMORY = 'memory://';

/**
 * An embedded PostgreSQL (PGlite, WebAssembly) stored in `dataDir`, or in memory for {@link IN_MEMORY}.
 * One process at a time may open a data directory; servers that share a database use a `pg` client instead.
 */
export async function createPgliteClient(dataDir: string): Promise<SqlClient> {
  if (dataDir !== IN_MEMORY) await mkdir(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir);
  const wrap = (target: Pick<PGlite, 'query'>): SqlQueryable => ({
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      return (await target.query<Row>(sql, [...params])).rows;
    },
  });
  return {
    ...wrap(db),
    transaction: (work) => db.transaction((tx) => work(wrap(tx))),
    close: () => db.close(),
  };
}
