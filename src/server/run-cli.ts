import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import * as v from 'valibot';
import { OmniPersonaError } from '../core/errors.js';
import { DEFAULT_OPTIONS } from '../core/personalizer/options.js';
import { decodePriorFile } from '../core/sync/prior-file.js';
import { readCatalogFeed } from './catalog-feed.js';
import { createSyncServer, LISTEN_DEFAULTS } from './create-sync-server.js';
import { formatIssues } from './format-issues.js';
import { SYNC_SERVER_DEFAULTS } from './sync-server-options.js';

/** What the CLI touches outside itself, so that tests can run it in-process. */
export interface CliIo {
  stdout(line: string): void;
  stderr(line: string): void;
  env: Record<string, string | undefined>;
  /** Calls `handler` on the first shutdown signal; returns a function that stops listening. */
  onShutdown(handler: () => void): () => void;
}

/** A CLI invocation: finished at once (help, bad flags) or serving until a signal or {@link stop}. */
export interface CliRun {
  /** The process exit status: 0 for success, 1 for a failure at start, 2 for bad usage. */
  exitCode: number;
  /** The base URL while serving. */
  url?: string;
  /** Resolves once the server has closed (at once when it never started). */
  stopped: Promise<void>;
  /** Closes the server and the database. */
  stop(): Promise<void>;
}

export const CLI_USAGE = `Usage: omnipersona-server [options]
       omnipersona-server export-prior --out <file> [--dtype <F32|F16|I8>] [--data-dir <path> | --database <url>]

Serves the OmniPersona sync protocol: the catalog, the global model, and federated updates.

Options:
  --port <n>           Port to listen on, 0 for any free one (default ${LISTEN_DEFAULTS.port})
  --host <address>     Address to bind (default ${LISTEN_DEFAULTS.host})
  --data-dir <path>    Embedded database folder, or memory:// (default ${SYNC_SERVER_DEFAULTS.dataDir})
  --database <url>     PostgreSQL server instead of the embedded database, e.g.
                       postgres://user:password@db:5432/shop, so that several server processes
                       share one state (or env OMNIPERSONA_DATABASE_URL)
  --catalog <file>     Catalog feed to import at start: JSON array, {"items": [...]}, JSONL, or CSV
  --round-size <n>     Updates per aggregation round (default ${SYNC_SERVER_DEFAULTS.roundSize})
  --model-dim <n>      Embedding width of a new model (default ${SYNC_SERVER_DEFAULTS.modelDim})
  --clip-norm <x>      Every update is scaled down to this L2 norm (default ${SYNC_SERVER_DEFAULTS.maxUpdateNorm})
  --noise-multiplier <z>
                       DP-FedAvg: Gaussian noise of z × clip norm on each round's sum, updates
                       weighed alike; the manifest reports the ε spent (default 0: off)
  --update-workers <n> Worker threads that check and sum updates beside the HTTP thread; 0 for none
                       (default one fewer than the CPU cores, at least 1 and at most 4)
  --admin-token <t>    Token for PUT /v1/catalog, PUT /v1/co-visits, PUT /v1/model,
                       GET /v1/model/prior and POST /v1/shoppers/:userId/events
                       (or env OMNIPERSONA_ADMIN_TOKEN)
  --site-secret <s>    Secret (32+ characters) the shop's backend signs shopper tokens with, for
                       signed-in shoppers' cross-channel state (or env OMNIPERSONA_SITE_SECRET)
  -h, --help           Show this help

Commands:
  export-prior         Write the current model and catalog to a prior file, then exit. Serve it with
                       the shop's static files and set the SDK's prior option (data-prior) to its URL:
                       devices that cannot reach this server start from it. One process at a time may
                       open --data-dir, so run it while the server is stopped, or download
                       GET /v1/model/prior?dtype=F16 from the running server with the admin token.
    --out <file>       Where to write it (replaced atomically), e.g. public/omnipersona-prior.bin
    --dtype <d>        Weight encoding: F32, F16 or I8 (default ${DEFAULT_OPTIONS.weightsDtype}, what devices download)
    --data-dir <path>  Embedded database folder (default ${SYNC_SERVER_DEFAULTS.dataDir})
    --database <url>   PostgreSQL server (or env OMNIPERSONA_DATABASE_URL)`;

const Integer = v.pipe(v.string(), v.digits('Expected a non-negative integer'), v.maxLength(9), v.transform(Number));

const Decimal = v.pipe(
  v.string(),
  v.regex(/^\d{1,6}(\.\d{1,9})?$/u, 'Expected a non-negative number'),
  v.transform(Number),
);

const FlagsSchema = v.object({
  port: v.optional(v.pipe(Integer, v.maxValue(65_535))),
  host: v.optional(v.pipe(v.string(), v.minLength(1))),
  'data-dir': v.optional(v.pipe(v.string(), v.minLength(1))),
  database: v.optional(v.pipe(v.string(), v.minLength(1))),
  catalog: v.optional(v.pipe(v.string(), v.minLength(1))),
  'round-size': v.optional(Integer),
  'model-dim': v.optional(Integer),
  'clip-norm': v.optional(Decimal),
  'noise-multiplier': v.optional(Decimal),
  'update-workers': v.optional(Integer),
  'admin-token': v.optional(v.string()),
  'site-secret': v.optional(v.string()),
  help: v.optional(v.boolean()),
});

const ExportFlagsSchema = v.object({
  out: v.optional(v.pipe(v.string(), v.minLength(1))),
  dtype: v.optional(v.picklist(['F32', 'F16', 'I8'], 'Expected F32, F16 or I8'), DEFAULT_OPTIONS.weightsDtype),
  'data-dir': v.optional(v.pipe(v.string(), v.minLength(1))),
  database: v.optional(v.pipe(v.string(), v.minLength(1))),
  help: v.optional(v.boolean()),
});

const processIo: CliIo = {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  onShutdown(handler) {
    process.once('SIGINT', handler);
    process.once('SIGTERM', handler);
    return () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    };
  },
};

const done = (exitCode: number): CliRun => ({ exitCode, stopped: Promise.resolve(), stop: async () => {} });

/**
 * Runs `omnipersona-server` with `argv` (without the node and script paths): serves, or with
 * `export-prior` as the first argument writes a prior file and finishes.
 * @example
 * ```ts
 * const run = await runCli(['--port', '0', '--data-dir', 'memory://']);
 * await run.stop();
 * await runCli(['export-prior', '--out', 'public/omnipersona-prior.bin']);
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<CliRun> {
  if (argv[0] === 'export-prior') return done(await exportPrior(argv.slice(1), io));
  let flags: v.InferOutput<typeof FlagsSchema>;
  try {
    flags = parseFlags(argv, FlagsSchema, {
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      database: { type: 'string' },
      catalog: { type: 'string' },
      'round-size': { type: 'string' },
      'model-dim': { type: 'string' },
      'clip-norm': { type: 'string' },
      'noise-multiplier': { type: 'string' },
      'update-workers': { type: 'string' },
      'admin-token': { type: 'string' },
      'site-secret': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
  } catch (error) {
    return done(usageError(error, io));
  }
  if (flags.help) {
    io.stdout(CLI_USAGE);
    return done(0);
  }

  let server: Awaited<ReturnType<typeof createSyncServer>> | undefined;
  try {
    const items = flags.catalog === undefined ? undefined : await readCatalogFeed(flags.catalog);
    server = await createSyncServer({
      dataDir: flags['data-dir'],
      database: flags.database ?? io.env.OMNIPERSONA_DATABASE_URL,
      roundSize: flags['round-size'],
      modelDim: flags['model-dim'],
      maxUpdateNorm: flags['clip-norm'],
      noiseMultiplier: flags['noise-multiplier'],
      updateWorkers: flags['update-workers'],
      adminToken: flags['admin-token'] ?? io.env.OMNIPERSONA_ADMIN_TOKEN,
      siteSecret: flags['site-secret'] ?? io.env.OMNIPERSONA_SITE_SECRET,
      logger: serverLogger(io),
    });
    if (items) {
      const imported = await server.importCatalog(items);
      io.stdout(
        `catalog version ${imported.catalogVersion}: ${imported.items} items, model version ${imported.modelVersion}`,
      );
    }
    const listener = await server.listen({ port: flags.port, host: flags.host });
    io.stdout(`omnipersona-server listening on ${listener.url}`);
    return serving(server, listener.url, io);
  } catch (error) {
    await server?.close().catch(() => {});
    const usage = error instanceof OmniPersonaError && error.code === 'INVALID_OPTIONS';
    io.stderr(`omnipersona-server: ${error instanceof Error ? error.message : String(error)}`);
    return done(usage ? 2 : 1);
  }
}

/**
 * `export-prior`: writes the current model and catalog as a prior file (`core/sync/prior-file.ts`)
 * and checks it reads back as the device will read it.
 * @returns the exit status
 */
async function exportPrior(argv: readonly string[], io: CliIo): Promise<number> {
  let flags: v.InferOutput<typeof ExportFlagsSchema>;
  try {
    flags = parseFlags(argv, ExportFlagsSchema, {
      out: { type: 'string' },
      dtype: { type: 'string' },
      'data-dir': { type: 'string' },
      database: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
    if (!flags.help && flags.out === undefined) throw new Error('export-prior needs --out <file>');
  } catch (error) {
    return usageError(error, io);
  }
  if (flags.help || flags.out === undefined) {
    io.stdout(CLI_USAGE);
    return 0;
  }
  const out = flags.out;
  let server: Awaited<ReturnType<typeof createSyncServer>> | undefined;
  const partial = `${out}.${process.pid}.partial`;
  try {
    server = await createSyncServer({
      dataDir: flags['data-dir'],
      database: flags.database ?? io.env.OMNIPERSONA_DATABASE_URL,
      logger: serverLogger(io),
    });
    const bytes = await server.exportPrior(flags.dtype);
    const prior = decodePriorFile(bytes, { maxBytes: 2 ** 31 });
    await mkdir(dirname(out), { recursive: true });
    // Written aside, then renamed: a web server serving `out` never sends half a file.
    await writeFile(partial, bytes);
    await rename(partial, out);
    io.stdout(
      `prior of model version ${prior.version} (catalog version ${prior.catalogVersion}, ${prior.items.length} items, ${flags.dtype}) written to ${out}: ${bytes.length} bytes`,
    );
    return 0;
  } catch (error) {
    await rm(partial, { force: true }).catch(() => {});
    io.stderr(`omnipersona-server export-prior: ${error instanceof Error ? error.message : String(error)}`);
    return error instanceof OmniPersonaError && error.code === 'INVALID_OPTIONS' ? 2 : 1;
  } finally {
    await server?.close().catch(() => {});
  }
}

/** Parses `argv` strictly with `options`, then checks the values with `schema`. Throws on the first problem. */
function parseFlags<S extends v.GenericSchema>(
  argv: readonly string[],
  schema: S,
  options: NonNullable<Parameters<typeof parseArgs>[0]>['options'],
): v.InferOutput<S> {
  const { values } = parseArgs({ args: [...argv], strict: true, allowPositionals: false, options });
  const result = v.safeParse(schema, values);
  if (!result.success) throw new Error(`Invalid option --${formatIssues(result.issues, 1)}`);
  return result.output;
}

function serverLogger(io: CliIo) {
  return { info: io.stdout, error: (message: string, error: unknown) => io.stderr(`${message}: ${String(error)}`) };
}

function usageError(error: unknown, io: CliIo): number {
  io.stderr(`omnipersona-server: ${error instanceof Error ? error.message : String(error)}`);
  io.stderr('Run omnipersona-server --help for usage.');
  return 2;
}

function serving(server: { close(): Promise<void> }, url: string, io: CliIo): CliRun {
  let resolveStopped: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    resolveStopped = resolve;
  });
  let stopping: Promise<void> | undefined;
  const run: CliRun = {
    exitCode: 0,
    url,
    stopped,
    stop() {
      stopping ??= (async () => {
        unsubscribe();
        try {
          await server.close();
          io.stdout('omnipersona-server stopped');
        } catch (error) {
          run.exitCode = 1;
          io.stderr(`omnipersona-server: failed to close: ${String(error)}`);
        }
        resolveStopped();
      })();
      return stopping;
    },
  };
  const unsubscribe = io.onShutdown(() => void run.stop());
  return run;
}
