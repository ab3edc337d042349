import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import type { SqlClient, SqlQueryable } from './sql-client.js';

/** The type id of `bytea`. */
const BYTEA = 17;

/**
 * `bytea` parameters go as they are, in PostgreSQL's binary format: PGlite's own serializer writes
 * them out as hex text, byte by byte through strings, which made update payloads and model weights
 * the server's largest cost.
 */
function asBinary(value: unknown): string {
  if (!(value instanceof Uint8Array)) throw new TypeError('A bytea parameter must be a Uint8Array');
  // PGlite types serializers as returning text, but its protocol writer binds any byte view it is
  // given in the binary format (as pg-protocol, which it follows, does).
  return value as unknown as string;
}

/** `bytea` results, which come in the hex text form, through Node's native codec. */
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
  const db = await PGlite.create(dataDir, { serializers: { [BYTEA]: asBinary }, parsers: { [BYTEA]: fromHex } });
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
