import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createPgliteClient, createPostgresClient, type SqlClient } from '../../src/server/index.js';

/**
 * The database the server suite runs on. The default project uses the embedded PGlite; the
 * `server-postgres` project (vite.config.ts) runs the same files against the PostgreSQL server at
 * `OMNIPERSONA_TEST_POSTGRES_URL`, which `.ci/run` starts.
 */
export const TEST_STORE: 'embedded' | 'postgres' =
  process.env.OMNIPERSONA_TEST_STORE === 'postgres' ? 'postgres' : 'embedded';

/** One empty database of {@link TEST_STORE}, for one test's servers. */
export interface TestDatabase {
  /** What `createSyncServer` takes to use it. */
  options: { dataDir: string } | { database: string };
  /** The same as `omnipersona-server` flags. */
  flags: string[];
  /** A client of its own, for tests that drive the store or break the connection. */
  connect(): Promise<SqlClient>;
  /** Deletes it; its servers must be closed first. */
  remove(): Promise<void>;
}

let created = 0;

/** A fresh temporary folder. */
export function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'omnipersona-server-'));
}

/** A fresh database: a temp folder for PGlite, or a new database on the PostgreSQL server. */
export async function testDatabase(): Promise<TestDatabase> {
  if (TEST_STORE === 'embedded') {
    const dataDir = await tempDir();
    return {
      options: { dataDir },
      flags: ['--data-dir', dataDir],
      connect: () => createPgliteClient(dataDir),
      remove: () => rm(dataDir, { recursive: true, force: true }),
    };
  }
  const server = postgresServerUrl();
  const name = `omnipersona_test_${process.pid}_${++created}`;
  await onServer(server, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(server);
  url.pathname = `/${name}`;
  const database = url.toString();
  return {
    options: { database },
    flags: ['--database', database],
    connect: () => createPostgresClient(database),
    remove: () => onServer(server, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
  };
}

function postgresServerUrl(): string {
  const url = process.env.OMNIPERSONA_TEST_POSTGRES_URL;
  if (!url) throw new Error('The server-postgres project needs OMNIPERSONA_TEST_POSTGRES_URL (see .ci/run)');
  return url;
}

async function onServer(url: string, work: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}
