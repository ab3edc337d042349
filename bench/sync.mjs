#!/usr/bin/env node
// Sync benchmark: the size of a device's model update against the full float32 weights, updates the
// server accepts per second (embedded database, and PostgreSQL when OMNIPERSONA_TEST_POSTGRES_URL
// names a server), and the time from one channel's sync to the same recommendations on a second.
// Measures the built npm package in dist/npm (`npm run build`), in Node.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Pool } from 'undici';
import { rankBiasedOverlap } from './rank-overlap.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const npm = join(root, 'dist', 'npm');

/** Model sizes the update figures are measured at: Beauty's catalog, and a small shop's. */
const SIZES = [
  { label: 'Beauty (12,101 items)', config: { items: 12_101, categories: 1, brands: 1, dim: 64 } },
  { label: '1,000 items', config: { items: 1000, categories: 20, brands: 50, dim: 64 } },
];
/**
 * Devices posting at once, each a request after the other, for `seconds`, with rounds of the
 * server's default size and of 1,000 (what a busy server, and DP noise, want: every round writes a
 * model version).
 */
const THROUGHPUT = { items: 1000, seconds: 8, concurrency: 64, roundSizes: [20, 1000], maxStaleness: 4, runs: 3 };
const CONSISTENCY_RUNS = 5;

/**
 * Runs the sync benchmark, prints its tables and writes `bench/results/sync.json`.
 * @param {{ results?: string }} [options]
 */
export async function runSyncBench({ results = join(root, 'bench', 'results') } = {}) {
  if (!existsSync(join(npm, 'server', 'index.js'))) {
    throw new Error('No dist/npm/server/index.js: run `npm run build` first.');
  }
  const sizes = await measureUpdateSizes();
  console.log('\nModel updates: what a device sends against the full float32 weights');
  console.table(
    sizes.map((row) => ({
      model: row.label,
      'full weights F32 (KiB)': (row.fullBytes / 1024).toFixed(0),
      'dense update F32 (KiB)': (row.denseBytes / 1024).toFixed(0),
      'update as sent, rank 4 int8 (KiB)': (row.updateBytes / 1024).toFixed(1),
      'update / full': row.ratio.toFixed(3),
    })),
  );

  const throughput = [];
  const postgres = process.env.OMNIPERSONA_TEST_POSTGRES_URL;
  for (const roundSize of THROUGHPUT.roundSizes) {
    const embedded = [];
    const shared = [];
    // Runs of each store in turn, so that a slow spell of the machine does not land on one store only.
    for (let run = 0; run < THROUGHPUT.runs; run++) {
      // In a folder, as the embedded store is deployed (its default is ./.omnipersona).
      const dataDir = mkdtempSync(join(tmpdir(), 'omnipersona-bench-'));
      try {
        embedded.push(await measureThroughput('embedded (PGlite)', { dataDir }, roundSize));
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
      if (postgres) {
        shared.push(
          await withDatabase(postgres, (database) => measureThroughput('PostgreSQL', { database }, roundSize)),
        );
      }
    }
    throughput.push(medianRun(embedded));
    if (postgres) throughput.push(medianRun(shared));
  }
  console.log(
    `\nUpdates accepted per second (${THROUGHPUT.items} items at width 64, ${THROUGHPUT.concurrency} at a time; ` +
      `the median of ${THROUGHPUT.runs} runs of ${THROUGHPUT.seconds} s, and their range)`,
  );
  console.table(
    throughput.map((row) => ({
      store: row.store,
      'round size': row.roundSize,
      'update (KiB)': (row.updateBytes / 1024).toFixed(0),
      accepted: row.updates,
      'refused as stale': row.refusedStale,
      'accepted per second': row.perSecond.toFixed(0),
      range: row.perSecondRange.map((value) => value.toFixed(0)).join('–'),
      'server CPU per update (ms)': row.serverCpuMs.toFixed(2),
      'rounds aggregated': row.rounds,
    })),
  );
  if (!postgres)
    console.log('PostgreSQL not measured: set OMNIPERSONA_TEST_POSTGRES_URL to an admin URL (.ci/run does).');

  const consistency = await measureConsistency();
  console.log('\nFrom one channel’s sync to the same top-10 on a second (two devices in Node, WASM)');
  console.table([
    {
      'p50 (ms)': consistency.p50.toFixed(0),
      'max (ms)': consistency.max.toFixed(0),
      'rank-biased overlap, lowest': consistency.overlap.toFixed(3),
      runs: consistency.runs.length,
    },
  ]);

  mkdirSync(results, { recursive: true });
  const file = join(results, 'sync.json');
  writeFileSync(
    file,
    `${JSON.stringify({ measuredAt: new Date().toISOString(), sizes, throughput, consistency }, null, 2)}\n`,
  );
  console.log(`JSON: ${join('bench', 'results', 'sync.json')}`);
}

/**
 * A device's update as it travels (`lowRankUpdate`), against the full float32 weights. Its size
 * depends on the tensor shapes alone.
 */
async function measureUpdateSizes() {
  const { initialWeights } = await import(join(npm, 'core/model/model-spec.js'));
  const { encodeTensors } = await import(join(npm, 'core/sync/tensor-codec.js'));
  const rows = [];
  for (const { label, config } of SIZES) {
    const full = encodeTensors(initialWeights(config, 1), {});
    const dense = encodeTensors(await denseUpdate(config), {});
    const update = await lowRankUpdate(config, 1);
    rows.push({
      label,
      config,
      fullBytes: full.length,
      denseBytes: dense.length,
      updateBytes: update.length,
      ratio: update.length / full.length,
    });
  }
  return rows;
}

/** An update's shared part with every value set: the dense form a gradient step over a full softmax has. */
async function denseUpdate(config) {
  const { initialWeights, sharedPart } = await import(join(npm, 'core/model/model-spec.js'));
  const delta = sharedPart(initialWeights(config, 2), config);
  for (const tensor of Object.values(delta)) for (let i = 0; i < tensor.data.length; i++) tensor.data[i] *= 0.001;
  return delta;
}

/** What a device sends for a round: its update as rank-4 factors in int8 (`SyncClient.pushUpdate`). */
async function lowRankUpdate(config, baseVersion) {
  const { encodeTensors } = await import(join(npm, 'core/sync/tensor-codec.js'));
  const { factorWeights, UPDATE_RANK } = await import(join(npm, 'core/sync/low-rank.js'));
  const factored = factorWeights(await denseUpdate(config), { rank: UPDATE_RANK, random: Math.random });
  const metadata = {
    'omnipersona.base_version': String(baseVersion),
    'omnipersona.examples': '5',
    'omnipersona.kind': 'low-rank',
  };
  return encodeTensors(factored, metadata, 'I8', { random: Math.random });
}

/** The run of median throughput among `runs` (an odd number of them), with the range of all. */
function medianRun(runs) {
  const sorted = [...runs].sort((a, b) => a.perSecond - b.perSecond);
  const median = sorted[Math.floor(sorted.length / 2)];
  return {
    ...median,
    perSecondRange: [sorted[0].perSecond, sorted[sorted.length - 1].perSecond],
    runs: runs.map(({ perSecond, serverCpuMs }) => ({ perSecond, serverCpuMs })),
  };
}

/** Posts updates to a server over HTTP for `THROUGHPUT.seconds`, `concurrency` at a time. */
async function measureThroughput(store, storage, roundSize) {
  const server = await startServerProcess({
    ...storage,
    items: THROUGHPUT.items,
    roundSize,
    // Devices that trained on a version one or two rounds old still count, as a busy server wants.
    maxStaleness: THROUGHPUT.maxStaleness,
  });
  try {
    const { url } = server;
    let manifest = await (await fetch(`${url}/v1/model`)).json();
    // Bodies encoded ahead, per base version, so that the clients' own work is not what is measured.
    const bodies = new Map();
    const body = async (version) => {
      if (!bodies.has(version)) bodies.set(version, await lowRankUpdate(manifest.config, version));
      return bodies.get(version);
    };
    let sent = 0;
    let accepted = 0;
    // undici's pool over kept-alive connections: the clients share the machine's two cores with the
    // server, and cost them about 40% less than node:http's (fetch costs more than either).
    const pool = new Pool(url, { connections: THROUGHPUT.concurrency });
    const started = performance.now();
    const deadline = started + THROUGHPUT.seconds * 1000;
    const worker = async () => {
      while (performance.now() < deadline) {
        sent++;
        const response = await post(pool, '/v1/updates', await body(manifest.version));
        if (response.status === 200) accepted++;
        else if (response.status === 409) manifest = await (await fetch(`${url}/v1/model`)).json();
        else throw new Error(`POST /v1/updates answered ${response.status}: ${response.text}`);
      }
    };
    await Promise.all(Array.from({ length: THROUGHPUT.concurrency }, worker));
    const seconds = (performance.now() - started) / 1000;
    await pool.close();
    const last = await (await fetch(`${url}/v1/model`)).json();
    const { cpuSeconds } = await server.stop();
    return {
      store,
      roundSize,
      updateBytes: (await body(1)).length,
      updates: accepted,
      refusedStale: sent - accepted,
      seconds,
      perSecond: accepted / seconds,
      rounds: last.version - 1,
      // Every thread of the server process, workers included, from listening to shutdown.
      serverCpuMs: (1000 * cpuSeconds) / accepted,
    };
  } finally {
    await server.stop();
  }
}

/**
 * POSTs `body` to `path` through `pool`.
 * @returns {Promise<{ status: number, text: string }>}
 */
async function post(pool, path, body) {
  const response = await pool.request({ path, method: 'POST', body });
  return { status: response.statusCode, text: await response.body.text() };
}

/**
 * `bench/sync-server-process.mjs` in a child process: the server as deployed, apart from the load.
 * `stop` resolves to the CPU time the server used while listening (the first call's answer, for
 * every call).
 */
async function startServerProcess(options) {
  const child = spawn(process.execPath, [join(root, 'bench', 'sync-server-process.mjs'), JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let output = '';
  const lines = () =>
    output
      .split('\n')
      .filter((entry) => entry.startsWith('{'))
      .map((entry) => JSON.parse(entry));
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  const url = await new Promise((resolve, reject) => {
    child.stdout.on('data', () => {
      const started = lines().find((line) => line.url);
      if (started) resolve(started.url);
    });
    child.once('exit', (code) => reject(new Error(`The benchmark's sync server exited with ${code}`)));
  });
  let stopped;
  return {
    url,
    stop() {
      stopped ??= (async () => {
        child.kill('SIGTERM');
        await exited;
        return { cpuSeconds: lines().find((line) => line.cpuSeconds !== undefined)?.cpuSeconds ?? Number.NaN };
      })();
      return stopped;
    },
  };
}

/** A fresh database on the PostgreSQL server at `url`, dropped afterwards. */
async function withDatabase(url, use) {
  const name = `omnipersona_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
    const database = new URL(url);
    database.pathname = `/${name}`;
    return await use(database.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
    await admin.end();
  }
}

/**
 * One shopper on two devices (`web` and `app`, the npm package in Node with memory storage): the
 * web device views four products and syncs; the time runs from the end of that sync to the app
 * device showing the same top-10 after its own sync and training.
 */
async function measureConsistency() {
  const { createSyncServer, signShopperToken } = await import(join(npm, 'server/index.js'));
  const { createPersonalizer } = await import(join(npm, 'index.js'));
  const catalog = JSON.parse(
    await (await import('node:fs/promises')).readFile(join(root, 'demo/data/catalog.json'), 'utf8'),
  );
  const secret = 'bench-site-secret-of-at-least-32-characters';
  const runs = [];
  for (let run = 0; run < CONSISTENCY_RUNS; run++) {
    const server = await createSyncServer({
      dataDir: 'memory://',
      siteSecret: secret,
      logger: { info() {}, error() {} },
    });
    try {
      await server.importCatalog(catalog);
      const { url } = await server.listen({ port: 0 });
      const token = await signShopperToken(secret, `shopper-${run}`);
      const device = (channel) =>
        createPersonalizer({
          endpoint: url,
          site: `${channel}-${run}`,
          channel,
          consent: 'synced',
          trainAfterEvents: 0,
        });
      const web = device('web');
      const app = device('app');
      await web.identify(`shopper-${run}`, { token });
      await app.identify(`shopper-${run}`, { token });
      const category = ['Coffee', 'Outdoor', 'Kitchen', 'Running Shoes'][run % 4];
      for (const item of catalog.filter((entry) => entry.category[0] === category).slice(0, 4)) {
        web.track({ type: 'view', item });
      }
      await web.flush();
      await web.sync();
      await web.train();
      const webPicks = (await web.recommend({ kind: 'for-you', count: 10 })).map((pick) => pick.item.id);
      const started = performance.now();
      await app.sync();
      await app.train();
      const appPicks = (await app.recommend({ kind: 'for-you', count: 10 })).map((pick) => pick.item.id);
      runs.push({ ms: performance.now() - started, overlap: rankBiasedOverlap(webPicks, appPicks) });
    } finally {
      await server.close();
    }
  }
  const times = runs.map((run) => run.ms).sort((a, b) => a - b);
  return {
    runs,
    p50: times[Math.floor(times.length / 2)],
    max: times.at(-1),
    overlap: Math.min(...runs.map((run) => run.overlap)),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await runSyncBench();
