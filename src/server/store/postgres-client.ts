import pg from 'pg';
import type { SqlClient, SqlQueryable } from './sql-client.js';

/** Connections each server process keeps to the database at most. */
const POOL_SIZE = 10;

/** Whether `value` names a PostgreSQL server (`postgres://…` or `postgresql://…`) rather than a folder. */
export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value);
}

/**
 * A pool of connections to a PostgreSQL server at `url` (`postgres://user:password@host:port/db`), for
 * servers that share one database behind a load balancer. Fails when the server cannot be reached
 * or refuses the credentials, so that a misconfigured server does not start.
 */
export async function createPostgresClient(url: string): Promise<SqlClient> {
  const pool = new pg.Pool({ connectionString: url, max: POOL_SIZE });
  // An idle connection the server drops (a restart, a failover) is replaced on the next query; without
  // a listener its error would end the process.
  pool.on('error', () => {});
  const wrap = (target: pg.Pool | pg.PoolClient): SqlQueryable => ({
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      const result = await target.query(sql, [...params]);
      return result.rows as Row[];
    },
  });
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end();
    throw error;
  }
  return {
    ...wrap(pool),
    async transaction(work) {
      const connection = await pool.connect();
      let broken: unknown;
      try {
        await connection.query('BEGIN');
        const result = await work(wrap(connection));
        await connection.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await connection.query('ROLLBACK');
        } catch (rollbackError) {
          // A connection that cannot roll back is not handed to the next request.
          broken = rollbackError;
        }
        throw error;
      } finally {
        connection.release(broken instanceof Error ? broken : undefined);
      }
    },
    close: () => pool.end(),
  };
}
