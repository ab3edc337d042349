/**
 * The little SQL the sync store needs, so that any PostgreSQL driver drops in: the embedded
 * PGlite today ({@link createPgliteClient}), a `pg` pool when several servers share one database.
 * Statements use PostgreSQL syntax with `$1` placeholders.
 */
export interface SqlQueryable {
  /** Runs one statement and returns its rows (empty for statements that return none). */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
}

/** A connection (or pool) that can also run a unit of work atomically. */
export interface SqlClient extends SqlQueryable {
  /**
   * Runs `work` inside `BEGIN … COMMIT` on one connection, rolling back when it throws.
   * Every statement of the unit must go through the `tx` it receives.
   */
  transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  /** Releases the connection or pool. */
  close(): Promise<void>;
}
