import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import type { SqlClient, SqlQueryable } from './sql-client.js';

/** The type id of `bytea`. */
const BYTEA = 17;

/**
 * `bytea` in PostgreSQL's hex form, through Node's native codec: PGlite's own goes byte by byte
 * through strings, and made update payloads and model weights the server's largest cost.
 */
function toHex(value: unknown): string {
  if (!(value instanceof Uint8Array)) throw new TypeError('A bytea parameter must be a Uint8Array');
  return `\\x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}`;
}

function fromHex(text: string): Uint8Array {
  const bytes = Buffer.from(text.slice(2), 'hex');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The `dataDir` value that keeps the embedded database in memory only. */
export const IN_MEMORY = 'memory://';

/**
 * An embedded PostgreSQL (PGlite, WebAssembly) stored in `dataDir`, or in memory for {@link IN_MEMORY}.
 * One process at a time may open a data directory; servers that share a database use a `pg` client instead.
 */
export async function createPgliteClient(dataDir: string): Promise<SqlClient> {
  if (dataDir !== IN_MEMORY) await mkdir(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir, { serializers: { [BYTEA]: toHex }, parsers: { [BYTEA]: fromHex } });
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
