import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePriorFile } from '../../src/core/sync/prior-file.js';
import { createSyncServer } from '../../src/server/index.js';
import { type CliIo, runCli } from '../../src/server/run-cli.js';
import { filledWeights, getManifest, makeItems, quiet, type TestDatabase, tempDir, testDatabase } from './helpers.js';

const root = resolve(import.meta.dirname, '../..');

/** Runs the CLI in-process with captured output and a shutdown signal the test can send. */
function fakeIo(env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  let shutdown: (() => void) | undefined;
  const io: CliIo = {
    stdout: (line) => out.push(line),
    stderr: (line) => err.push(line),
    env,
    onShutdown(handler) {
      shutdown = handler;
      return () => {
        shutdown = undefined;
      };
    },
  };
  return { io, out, err, signal: () => shutdown?.() };
}

describe('omnipersona-server CLI', () => {
  let dir: string;
  let feed: string;
  const databases: TestDatabase[] = [];
  /** A fresh database of the suite's store, removed after the tests. */
  const database = async () => {
    const created = await testDatabase();
    databases.push(created);
    return created;
  };
  beforeAll(async () => {
    dir = await tempDir();
    feed = join(dir, 'feed.jsonl');
    await writeFile(
      feed,
      makeItems(4)
        .map((item) => JSON.stringify(item))
        .join('\n'),
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await Promise.all(databases.map((created) => created.remove()));
  });

  it('prints usage for --help', async () => {
    const { io, out } = fakeIo();
    expect((await runCli(['--help'], io)).exitCode).toBe(0);
    expect(out.join('\n')).toMatch(/--round-size <n>[\s\S]*--admin-token[\s\S]*export-prior[\s\S]*--out <file>/);
  });

  it.each([
    [['--port', 'eighty'], /--port: Expected a non-negative integer/],
    [['--port', '70000'], /--port/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['stray'], /positional/],
    [['--round-size', '0', '--data-dir', 'memory://'], /roundSize/],
    [['--noise-multiplier', 'lots'], /--noise-multiplier: Expected a non-negative number/],
    [['--clip-norm', '0', '--data-dir', 'memory://'], /maxUpdateNorm/],
    [['--site-secret', 'short', '--data-dir', 'memory://'], /siteSecret: Expected a site secret of at least 32/],
    [['--database', 'mysql://db/shop'], /database: Expected a postgres:\/\/ or postgresql:\/\/ URL/],
  ])('exits 2 with a clear message for bad flags %j', async (argv, message) => {
    const { io, err } = fakeIo();
    expect((await runCli(argv, io)).exitCode).toBe(2);
    expect(err.join('\n')).toMatch(message);
  });

  it('exits 1 naming the file when the catalog is unreadable or invalid', async () => {
    const missing = fakeIo();
    expect((await runCli(['--catalog', join(dir, 'nope.json')], missing.io)).exitCode).toBe(1);
    expect(missing.err.join('\n')).toContain('nope.json');

    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify([{ name: 'no id' }]));
    const invalid = fakeIo();
    expect((await runCli(['--catalog', bad, '--data-dir', 'memory://'], invalid.io)).exitCode).toBe(1);
    expect(invalid.err.join('\n')).toMatch(/bad\.json.*items\.0\.id/);
  });

  it('imports the catalog, serves, and closes on a shutdown signal', async () => {
    const { io, out, signal } = fakeIo({ OMNIPERSONA_ADMIN_TOKEN: 'token-from-env' });
    const { flags } = await database();
    const run = await runCli(
      [
        '--port',
        '0',
        ...flags,
        '--catalog',
        feed,
        '--model-dim',
        '6',
        '--clip-norm',
        '2.5',
        '--noise-multiplier',
        '0.8',
      ],
      io,
    );
    expect(run.exitCode).toBe(0);
    const url = run.url ?? '';
    expect(out).toContain(`omnipersona-server listening on ${url}`);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const manifest = await getManifest(url);
    expect(manifest.config).toEqual({ items: 4, categories: 3, brands: 1, dim: 6 });
    expect(manifest.privacy).toMatchObject({ clipNorm: 2.5, noiseMultiplier: 0.8 });
    const put = await fetch(`${url}/v1/catalog`, {
      method: 'PUT',
      headers: { authorization: 'Bearer token-from-env', 'content-type': 'application/json' },
      body: JSON.stringify([{ id: 'new' }]),
    });
    expect(put.status).toBe(200);

    signal();
    await run.stopped;
    expect(out.at(-1)).toBe('omnipersona-server stopped');
    await expect(fetch(`${url}/v1/health`)).rejects.toThrow();
  });

  it('exits 1 naming the database, without its password, when PostgreSQL cannot be reached', async () => {
    const { io, err } = fakeIo({ OMNIPERSONA_DATABASE_URL: 'postgres://shop:s3cret@127.0.0.1:1/shop' });
    expect((await runCli(['--port', '0'], io)).exitCode).toBe(1);
    const message = err.join('\n');
    expect(message).toMatch(/Could not open the database at postgres:\/\/shop:\*\*\*@127\.0\.0\.1:1\/shop/);
    expect(message).not.toContain('s3cret');
  });

  it('export-prior writes the current model and catalog to a file that decodes to them', async () => {
    const { options, flags } = await database();
    const server = await createSyncServer({ ...options, modelDim: 4, logger: quiet });
    await server.importCatalog(makeItems(5));
    const older = await server.publishModel(
      filledWeights({ items: 5, categories: 3, brands: 1, dim: 4 }, (i) => i / 7),
    );
    const weights = filledWeights(older.config, (i, name) => (name === 'item_bias' ? i : -i / 1000));
    const manifest = await server.publishModel(weights);
    await server.close();

    const out = join(dir, 'public/omnipersona-prior.bin');
    const f32 = fakeIo();
    expect((await runCli(['export-prior', '--out', out, '--dtype', 'F32', ...flags], f32.io)).exitCode).toBe(0);
    const bytes = await readFile(out);
    const prior = decodePriorFile(bytes);
    expect(prior.version).toBe(manifest.version);
    expect(prior.config).toEqual(manifest.config);
    expect(prior.catalogVersion).toBe(manifest.catalogVersion);
    expect(prior.items.map((item) => item.id)).toEqual(makeItems(5).map((item) => item.id));
    expect(prior.items[1]?.category).toEqual(['Bags', 'Totes']);
    for (const [name, tensor] of Object.entries(weights)) {
      expect([...(prior.weights[name]?.data ?? [])], name).toEqual([...tensor.data]);
    }
    expect(f32.out.at(-1)).toBe(
      `prior of model version ${manifest.version} (catalog version 1, 5 items, F32) written to ${out}: ${bytes.length} bytes`,
    );

    // By default the weights are float16, as devices download them: about half the bytes.
    const half = fakeIo();
    expect((await runCli(['export-prior', '--out', out, ...flags], half.io)).exitCode).toBe(0);
    const small = decodePriorFile(await readFile(out));
    expect(half.out.at(-1)).toContain('F16');
    expect(small.weights.item_bias?.data[4]).toBe(4);
    expect(small.weights.item_embedding?.data[3]).toBeCloseTo(-0.003, 5);
    expect(await readdir(join(dir, 'public'))).toEqual(['omnipersona-prior.bin']);
  });

  it.each([
    [['export-prior'], /export-prior needs --out <file>/],
    [['export-prior', '--out', 'x.bin', '--dtype', 'F64'], /--dtype: Expected F32, F16 or I8/],
    [['export-prior', '--out', 'x.bin', '--port', '80'], /Unknown option '--port'/],
    [['export-prior', '--out', 'x.bin', 'stray'], /positional/],
  ])('export-prior exits 2 with a clear message for bad flags %j', async (argv, message) => {
    const { io, err } = fakeIo();
    expect((await runCli(argv, io)).exitCode).toBe(2);
    expect(err.join('\n')).toMatch(message);
  });

  it('export-prior exits 1 and writes nothing when no model is published', async () => {
    const out = join(dir, 'empty/prior.bin');
    const { io, err } = fakeIo();
    expect((await runCli(['export-prior', '--out', out, '--data-dir', 'memory://'], io)).exitCode).toBe(1);
    expect(err.join('\n')).toMatch(/export-prior: No model is published yet/);
    expect(existsSync(out)).toBe(false);
  });

  it('keeps cli.ts an executable thin wrapper', () => {
    const source = readFileSync(join(root, 'src/server/cli.ts'), 'utf8');
    expect(source.split('\n')[0]).toBe('#!/usr/bin/env node');
    expect(source).toContain('runCli(process.argv.slice(2))');
  });
});

describe('omnipersona-server as a process', () => {
  // Node 20 cannot run TypeScript, so the CLI is compiled the way the package build does.
  const outDir = join(root, 'node_modules/.cache', `omnipersona-cli-test-${process.pid}`);
  let child: ChildProcess | undefined;
  beforeAll(() => {
    const program = ts.createProgram([join(root, 'src/server/cli.ts')], {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      rootDir: join(root, 'src'),
      outDir,
      skipLibCheck: true,
      types: ['node'],
    });
    const { emitSkipped } = program.emit();
    expect(emitSkipped).toBe(false);
  });
  afterAll(async () => {
    if (child?.exitCode === null) child.kill('SIGKILL');
    await rm(outDir, { recursive: true, force: true });
  });

  it('starts, answers HTTP, and exits 0 on SIGTERM', async () => {
    child = spawn(process.execPath, [join(outDir, 'server/cli.js'), '--port', '0', '--data-dir', 'memory://'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const url = await new Promise<string>((resolveUrl, reject) => {
      child?.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on (http:\/\/\S+)/u.exec(output);
        if (match?.[1]) resolveUrl(match[1]);
      });
      child?.stderr?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child?.once('exit', (code) => reject(new Error(`exited with ${code}: ${output}`)));
    });
    expect(await (await fetch(`${url}/v1/health`)).json()).toEqual({ ok: true, version: 1 });
    const exited = new Promise<number | null>((resolveExit) => child?.once('exit', resolveExit));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('omnipersona-server stopped');
  });
});
