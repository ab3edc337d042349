import { parseArgs } from 'node:util';
import * as v from 'valibot';
import { OmniPersonaError } from '../core/errors.js';
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

Serves the OmniPersona sync protocol: the catalog, the global model, and federated updates.

Options:
  --port <n>           Port to listen on, 0 for any free one (default ${LISTEN_DEFAULTS.port})
  --host <address>     Address to bind (default ${LISTEN_DEFAULTS.host})
  --data-dir <path>    Database folder, or memory:// (default ${SYNC_SERVER_DEFAULTS.dataDir})
  --catalog <file>     Catalog feed to import at start: JSON array, {"items": [...]}, JSONL, or CSV
  --round-size <n>     Updates per aggregation round (default ${SYNC_SERVER_DEFAULTS.roundSize})
  --model-dim <n>      Embedding width of a new model (default ${SYNC_SERVER_DEFAULTS.modelDim})
  --admin-token <t>    Token for PUT /v1/catalog and /v1/model (or env OMNIPERSONA_ADMIN_TOKEN)
  -h, --help           Show this help`;

const Integer = v.pipe(v.string(), v.digits('Expected a non-negative integer'), v.maxLength(9), v.transform(Number));

const FlagsSchema = v.object({
  port: v.optional(v.pipe(Integer, v.maxValue(65_535))),
  host: v.optional(v.pipe(v.string(), v.minLength(1))),
  'data-dir': v.optional(v.pipe(v.string(), v.minLength(1))),
  catalog: v.optional(v.pipe(v.string(), v.minLength(1))),
  'round-size': v.optional(Integer),
  'model-dim': v.optional(Integer),
  'admin-token': v.optional(v.string()),
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
 * Runs `omnipersona-server` with `argv` (without the node and script paths).
 * @example
 * ```ts
 * const run = await runCli(['--port', '0', '--data-dir', 'memory://']);
 * await run.stop();
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<CliRun> {
  let flags: v.InferOutput<typeof FlagsSchema>;
  try {
    const { values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'data-dir': { type: 'string' },
        catalog: { type: 'string' },
        'round-size': { type: 'string' },
        'model-dim': { type: 'string' },
        'admin-token': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    const result = v.safeParse(FlagsSchema, values);
    if (!result.success) throw new Error(`Invalid option --${formatIssues(result.issues, 1)}`);
    flags = result.output;
  } catch (error) {
    io.stderr(`omnipersona-server: ${error instanceof Error ? error.message : String(error)}`);
    io.stderr('Run omnipersona-server --help for usage.');
    return done(2);
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
      roundSize: flags['round-size'],
      modelDim: flags['model-dim'],
      adminToken: flags['admin-token'] ?? io.env.OMNIPERSONA_ADMIN_TOKEN,
      logger: { info: io.stdout, error: (message, error) => io.stderr(`${message}: ${String(error)}`) },
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
