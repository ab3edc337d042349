import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliIo, runCli } from '../../src/server/run-cli.js';
import { getManifest, makeItems, tempDir } from './helpers.js';

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
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('prints usage for --help', async () => {
    const { io, out } = fakeIo();
    expect((await runCli(['--help'], io)).exitCode).toBe(0);
    expect(out.join('\n')).toMatch(/--round-size <n>[\s\S]*--admin-token/);
  });

  it.each([
    [['--port', 'eighty'], /--port: Expected a non-negative integer/],
    [['--port', '70000'], /--port/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['stray'], /positional/],
    [['--round-size', '0', '--data-dir', 'memory://'], /roundSize/],
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
    const dataDir = join(dir, 'data');
    const run = await runCli(['--port', '0', '--data-dir', dataDir, '--catalog', feed, '--model-dim', '6'], io);
    expect(run.exitCode).toBe(0);
    const url = run.url ?? '';
    expect(out).toContain(`omnipersona-server listening on ${url}`);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await getManifest(url)).config).toEqual({ items: 4, categories: 3, dim: 6 });
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
