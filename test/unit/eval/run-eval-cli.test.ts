import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CO_VISIT_DEFAULTS } from '../../../src/core/co-visits.js';
import { seededRandom } from '../../../src/core/random.js';
import { decodeTensors } from '../../../src/core/sync/tensor-codec.js';
import type { EvalReport } from '../../../src/eval/eval-report.js';
import type { EvalSettings } from '../../../src/eval/eval-settings.js';
import { type EvalIo, runEvalCli } from '../../../src/eval/run-eval-cli.js';
import { SERVER_ADAM_DEFAULTS } from '../../../src/server/server-optimizer.js';

/**
 * 150 users in 3 tastes of 10 items each (rows 10g … 10g+9): each user walks one taste's items in
 * a cycle, 6 to 9 of them. What comes next is learnable from the history (its taste); popularity
 * is nearly flat, so a model that learns must beat it clearly.
 */
function tinyDataSet(): string {
  const random = seededRandom(7);
  const lines: string[] = [];
  for (let user = 0; user < 150; user++) {
    const taste = user % 3;
    const start = Math.floor(random() * 10);
    const length = 6 + Math.floor(random() * 4);
    // As "user item" pairs, one per line: the CLI must read this layout as well as the other.
    for (let step = 0; step < length; step++) lines.push(`user${user} item${taste * 10 + ((start + step) % 10)}`);
  }
  return `${lines.join('\n')}\n`;
}

function popularTargetDataSet(): string {
  const random = seededRandom(11);
  const lines: string[] = [];
  for (let user = 1; user <= 120; user++) {
    const items = new Set<number>();
    while (items.size < 6) items.add(2 + Math.floor(random() * 29));
    const [last, ...rest] = [...items];
    const tail = user % 2 === 0 ? [1, last] : [last, 1];
    lines.push(`${user} ${[...rest, ...tail].join(' ')}`);
  }
  return `${lines.join('\n')}\n`;
}

const tiny: EvalSettings = {
  users: 120,
  dim: 8,
  centralized: { epochs: 40, learningRate: 0.01, finalRateShare: 1 },
  federated: {
    rounds: 60,
    clientsPerRound: 16,
    local: { optimizer: 'sgd', epochs: 1, learningRate: 0.1, dropout: 0 },
    maxUpdateNorm: 10,
    updateRank: 0,
    server: { ...SERVER_ADAM_DEFAULTS, learningRate: 0.02 },
    finalRateShare: 1,
    logEvery: 10,
  },
  // The models alone: the tests below are about what they learn. One test adds the co-visits.
  coVisits: { ...CO_VISIT_DEFAULTS, weight: 0 },
  personalizationUsers: 0,
  scoreBatch: 32,
};

function capture(cwd: string): EvalIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, cwd, stdout: (line) => out.push(line), stderr: (line) => err.push(line) };
}

describe('npm run eval', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'omnipersona-eval-'));
    await writeFile(join(dir, 'tiny.txt'), tinyDataSet());
    await writeFile(join(dir, 'empty.txt'), '\n\n');
    await writeFile(join(dir, 'malformed.txt'), 'u1 1 2 3\nu2 4 5 6\nu3\n');
  });

  it('runs every mode on a data set, prints one table and writes the JSON report', async () => {
    const io = capture(dir);
    const status = await runEvalCli(['--data', 'tiny.txt', '--quick', '--json', 'out/report.json'], io, {
      full: { ...tiny, users: undefined },
      quick: tiny,
    });
    expect(io.err.join('\n')).not.toMatch(/eval: .*(Error|failed)/u);
    expect(status).toBe(0);

    const report = JSON.parse(await readFile(join(dir, 'out/report.json'), 'utf8')) as EvalReport;
    expect(report).toMatchObject({ data: 'tiny.txt', users: 120, items: 30, quick: true, target: 'test', seed: 1 });
    expect(['wasm', 'cpu']).toContain(report.backend);
    expect(report.results.map((result) => result.mode)).toEqual([
      'popularity',
      'co-visits',
      'centralized',
      'centralized@F16',
      'centralized@I8',
      'federated',
      'federated@F16',
      'federated@I8',
    ]);
    for (const result of report.results) {
      expect(Object.keys(result)).toEqual([
        'mode',
        'HR@5',
        'HR@10',
        'HR@20',
        'NDCG@5',
        'NDCG@10',
        'NDCG@20',
        'seconds',
      ]);
      expect(result['HR@5']).toBeLessThanOrEqual(result['HR@10']);
      expect(result['HR@10']).toBeLessThanOrEqual(result['HR@20']);
      expect(result['NDCG@20']).toBeLessThanOrEqual(result['HR@20']);
      expect(result.seconds).toBeGreaterThanOrEqual(0);
    }
    const row = (mode: string) => report.results.find((result) => result.mode === mode);
    const popularity = row('popularity');
    // Each user walks a cycle: what followed each item for the others follows it again.
    expect(row('co-visits')?.['HR@5']).toBeGreaterThan((popularity?.['HR@5'] ?? 1) + 0.3);
    // Targets are within the user's taste: both models must have learnt tastes to rank them first.
    expect(row('centralized')?.['HR@5']).toBeGreaterThan((popularity?.['HR@5'] ?? 1) + 0.3);
    expect(row('federated')?.['HR@5']).toBeGreaterThan((popularity?.['HR@5'] ?? 1) + 0.3);
    // Quantized downloads of those models rank nearly as well.
    for (const mode of ['centralized', 'federated']) {
      for (const dtype of ['F16', 'I8']) {
        expect(row(`${mode}@${dtype}`)?.['HR@10']).toBeGreaterThan((row(mode)?.['HR@10'] ?? 1) - 0.05);
      }
    }

    const table = io.out.slice(1, -1);
    expect(table[0]).toMatch(/^mode\s+HR@5\s+HR@10\s+HR@20\s+NDCG@5\s+NDCG@10\s+NDCG@20\s+seconds$/u);
    expect(table.slice(2).map((line) => line.split(/\s+/u)[0])).toEqual([
      'popularity',
      'co-visits',
      'centralized',
      'centralized@F16',
      'centralized@I8',
      'federated',
      'federated@F16',
      'federated@I8',
    ]);
    expect(io.out[0]).toContain('120 users, 30 items');
  }, 60_000);

  it('trains through a live sync server over HTTP and ranks its global model round after round', async () => {
    const io = capture(dir);
    const args = ['--data', 'tiny.txt', '--quick', '--modes', 'popularity,federated-server', '--json', 'server.json'];
    const status = await runEvalCli(args, io, { full: tiny, quick: tiny });
    expect(status).toBe(0);
    const report = JSON.parse(await readFile(join(dir, 'server.json'), 'utf8')) as EvalReport;
    expect(report.results.map((result) => result.mode)).toEqual([
      'popularity',
      'federated-server',
      'federated-server@F16',
      'federated-server@I8',
    ]);
    const progress = report.serverProgress ?? [];
    // Before the first round, then every 6 of the 60: each round is one version on the server.
    expect(progress.map((entry) => entry.round)).toEqual([0, 6, 12, 18, 24, 30, 36, 42, 48, 54, 60]);
    expect(progress.map((entry) => entry.version)).toEqual(progress.map((entry) => entry.round + 1));
    const first = progress[0]?.metrics['HR@10'] ?? 1;
    const last = progress.at(-1)?.metrics['HR@10'] ?? 0;
    expect(last).toBeGreaterThan(first + 0.3);
    const popularity = report.results[0]?.['HR@5'] ?? 1;
    expect(report.results[1]?.['HR@5']).toBeGreaterThan(popularity + 0.3);
    expect(io.out.join('\n')).toContain('federated-server, the global model after each checkpoint');
    expect(io.err.join('\n')).toContain('updates as rank-4 factors in int8');
  });

  it("--co-visits adds the co-visits to the models' scores and reports each model alone as well", async () => {
    const argv = ['--data', 'tiny.txt', '--modes', 'centralized', '--epochs', '1'];
    const added = capture(dir);
    expect(
      await runEvalCli([...argv, '--co-visits', '1.5', '--json', 'added.json'], added, { full: tiny, quick: tiny }),
    ).toBe(0);
    const alone = capture(dir);
    expect(await runEvalCli([...argv, '--json', 'alone.json'], alone, { full: tiny, quick: tiny })).toBe(0);
    const results = async (file: string) =>
      (JSON.parse(await readFile(join(dir, file), 'utf8')) as EvalReport).results.map(({ seconds: _, ...row }) => row);
    const [withCoVisits, modelAlone] = [await results('added.json'), await results('alone.json')];
    expect(withCoVisits.map((row) => row.mode)).toEqual([
      'centralized',
      'centralized, model alone',
      'centralized@F16',
      'centralized@I8',
    ]);
    expect(added.err.join('\n')).toMatch(/co-visits: \d+ pairs, weight 1\.5/u);
    // The same model: its row alone is the run without co-visits; after one epoch it has barely
    // learnt the cycles the co-visits remember.
    expect({ ...withCoVisits[1], mode: 'centralized' }).toEqual(modelAlone[0]);
    expect(withCoVisits[0]?.['HR@5']).toBeGreaterThan((modelAlone[0]?.['HR@5'] ?? 1) + 0.2);
  }, 60_000);

  it('gives the same results for the same seed', async () => {
    const run = async () => {
      const io = capture(dir);
      expect(await runEvalCli(['--data', 'tiny.txt', '--modes', 'centralized'], io, { full: tiny, quick: tiny })).toBe(
        0,
      );
      return io.out.slice(0, -1).map((line) => line.replace(/\s+[\d.]+$/u, ''));
    };
    expect(await run()).toEqual(await run());
  });

  it('ranks a saved model as it was when trained, and refuses one from another run', async () => {
    const presets = { full: tiny, quick: tiny };
    const rows = (io: { out: string[] }) => io.out.slice(0, -1).map((line) => line.replace(/\s+[\d.]+$/u, ''));
    const trained = capture(dir);
    const args = ['--data', 'tiny.txt', '--modes', 'centralized'];
    expect(await runEvalCli([...args, '--save-models', 'models'], trained, presets)).toBe(0);
    const loaded = capture(dir);
    expect(await runEvalCli([...args, '--load-models', 'models'], loaded, presets)).toBe(0);
    expect(loaded.err.join('\n')).toMatch(/centralized: loaded from .*centralized\.safetensors, not trained/u);
    expect(loaded.err.join('\n')).not.toMatch(/epochs/u);
    expect(rows(loaded)).toEqual(rows(trained));

    const other = capture(dir);
    expect(await runEvalCli([...args, '--seed', '2', '--load-models', 'models'], other, presets)).toBe(2);
    expect(other.err.join('\n')).toMatch(/was trained with seed 1, this run has 2/u);
    const missing = capture(dir);
    expect(
      await runEvalCli(['--data', 'tiny.txt', '--modes', 'federated', '--load-models', 'models'], missing, presets),
    ).toBe(2);
    expect(missing.err.join('\n')).toMatch(/federated\.safetensors/u);
  });

  it('measures the personalisation gain, with the shoppers left out of training on --unseen-shoppers', async () => {
    // 60 users with 13 items each: every one has the 10 events before the held-out item that fine-tuning needs.
    const lines = Array.from({ length: 60 }, (_, user) => {
      const taste = user % 3;
      return `${user} ${Array.from({ length: 13 }, (_, step) => taste * 10 + ((user + step) % 10) + 1).join(' ')}`;
    });
    await writeFile(join(dir, 'long.txt'), `${lines.join('\n')}\n`);
    const presets = {
      full: { ...tiny, users: undefined, centralized: { ...tiny.centralized, epochs: 2 } },
      quick: tiny,
    };
    const run = async (extra: string[]) => {
      const io = capture(dir);
      const argv = ['--data', 'long.txt', '--modes', 'centralized', '--personalize', '12', ...extra];
      expect(await runEvalCli(argv, io, presets)).toBe(0);
      const examples = Number(/centralized: (\d+) examples/u.exec(io.err.join('\n'))?.[1]);
      return { io, examples, report: JSON.parse(await readFile(join(dir, 'out/long.json'), 'utf8')) as EvalReport };
    };

    const seen = await run(['--json', 'out/long.json']);
    expect(seen.report.unseenShoppers).toBeUndefined();
    const rows = seen.report.results.filter((result) => result.users !== undefined);
    expect(rows.map((result) => [result.mode, result.users])).toEqual([
      ['centralized, 10+ events', 12],
      ['centralized fine-tuned, 10+ events', 12],
    ]);
    // The paired view rides on the fine-tuned row, and the log says it.
    const [alone, tuned] = rows;
    expect(alone?.rankedHigher).toBeUndefined();
    const higher = tuned?.rankedHigher ?? Number.NaN;
    const lower = tuned?.rankedLower ?? Number.NaN;
    for (const count of [higher, lower]) expect(Number.isInteger(count) && count >= 0).toBe(true);
    expect(higher + lower).toBeLessThanOrEqual(12);
    expect(seen.io.err.join('\n')).toContain(`ranked higher for ${higher}, lower for ${lower}`);

    const unseen = await run(['--unseen-shoppers', '--json', 'out/long.json']);
    expect(unseen.report.unseenShoppers).toBe(12);
    expect(unseen.io.out[0]).toContain('models trained without the 12 personalisation shoppers');
    // Each shopper's training sequence (13 items less the two held out) gives 10 examples.
    expect(unseen.examples).toBe(seen.examples - 12 * 10);
    expect(unseen.report.results.filter((result) => result.users === 12)).toHaveLength(2);

    const none = capture(dir);
    expect(await runEvalCli(['--data', 'long.txt', '--unseen-shoppers'], none, presets)).toBe(2);
    expect(none.err.join('\n')).toMatch(/--unseen-shoppers needs personalisation shoppers/u);
  }, 60_000);

  it('--check fails the run when a model does not beat popularity', async () => {
    const check = ['--data', 'tiny.txt', '--modes', 'popularity,centralized', '--check'];
    expect(await runEvalCli(check, capture(dir), { full: tiny, quick: tiny })).toBe(0);
    // Item 1 is what half the users took last and the other half just before: popularity ranks it
    // first, right for half the users; a model that learnt nothing ranks at random.
    await writeFile(join(dir, 'popular.txt'), popularTargetDataSet());
    check[1] = 'popular.txt';
    const untrained = { ...tiny, centralized: { epochs: 1, learningRate: 1e-9, finalRateShare: 1 } };
    const io = capture(dir);
    expect(await runEvalCli(check, io, { full: untrained, quick: untrained })).toBe(1);
    expect(io.err.join('\n')).toMatch(/--check: centralized HR@10 \S+ does not beat popularity's/u);
  });

  it('--contrastive-weight and --contrastive-temperature add the contrastive term to centralized training', async () => {
    const argv = ['--data', 'tiny.txt', '--modes', 'centralized', '--epochs', '2'];
    const flags = ['--contrastive-weight', '0.2', '--contrastive-temperature', '0.5'];
    const plain = capture(dir);
    const contrastive = capture(dir);
    expect(await runEvalCli(argv, plain, { full: tiny, quick: tiny })).toBe(0);
    expect(await runEvalCli([...argv, ...flags], contrastive, { full: tiny, quick: tiny })).toBe(0);
    expect(plain.err.join('\n')).not.toMatch(/contrastive/u);
    expect(contrastive.err.join('\n')).toMatch(/centralized: .*, contrastive weight 0\.2 at temperature 0\.5/u);
    // The term changes what the model learns: the epochs' losses differ.
    const losses = (io: { err: string[] }) => io.err.filter((line) => /epoch \d+, mean loss/u.test(line));
    expect(losses(contrastive)).toHaveLength(2);
    expect(losses(contrastive)).not.toEqual(losses(plain));

    const supervised = capture(dir);
    const positive = ['--contrastive-positive', 'same-next-item'];
    expect(await runEvalCli([...argv, ...flags, ...positive], supervised, { full: tiny, quick: tiny })).toBe(0);
    expect(supervised.err.join('\n')).toMatch(
      /contrastive weight 0\.2 at temperature 0\.5, positives with the same next item/u,
    );
    expect(losses(supervised)).not.toEqual(losses(contrastive));
  }, 60_000);

  it('--average-decay ends centralized training with the moving average of the weights', async () => {
    const argv = ['--data', 'tiny.txt', '--modes', 'centralized', '--epochs', '2', '--json', 'plain.json'];
    const plain = capture(dir);
    const averaged = capture(dir);
    expect(await runEvalCli(argv, plain, { full: tiny, quick: tiny })).toBe(0);
    const flags = ['--average-decay', '0.9', '--json', 'averaged.json'];
    expect(await runEvalCli([...argv, ...flags], averaged, { full: tiny, quick: tiny })).toBe(0);
    expect(plain.err.join('\n')).not.toMatch(/averaged/u);
    expect(averaged.err.join('\n')).toMatch(/centralized: .*, weights averaged with decay 0\.9/u);
    // The steps are the same; the model ranked is not.
    const losses = (io: { err: string[] }) => io.err.filter((line) => /epoch \d+, mean loss/u.test(line));
    expect(losses(averaged)).toEqual(losses(plain));
    const scores = async (file: string) => JSON.parse(await readFile(join(dir, file), 'utf8')).results[0];
    expect(await scores('averaged.json')).not.toEqual(await scores('plain.json'));
  }, 60_000);

  it('--label-smoothing trains against a smoothed target, and --dim sets the width', async () => {
    const argv = ['--data', 'tiny.txt', '--modes', 'centralized', '--epochs', '6'];
    const plain = capture(dir);
    const smoothed = capture(dir);
    const wide = capture(dir);
    expect(await runEvalCli([...argv, '--save-models', 'plain'], plain, { full: tiny, quick: tiny })).toBe(0);
    expect(await runEvalCli([...argv, '--label-smoothing', '0.2'], smoothed, { full: tiny, quick: tiny })).toBe(0);
    expect(await runEvalCli([...argv, '--dim', '12', '--save-models', 'wide'], wide, { full: tiny, quick: tiny })).toBe(
      0,
    );
    expect(plain.err.join('\n')).not.toMatch(/label smoothing/u);
    expect(smoothed.err.join('\n')).toMatch(/centralized: .*, label smoothing 0\.2/u);
    // Both start near a uniform guess; against a smoothed target the loss falls less.
    const lastLoss = (io: { err: string[] }) =>
      Number(/epoch 6, mean loss ([\d.]+)/u.exec(io.err.join('\n'))?.[1] ?? Number.NaN);
    expect(lastLoss(smoothed)).toBeGreaterThan(lastLoss(plain));
    // The saved model has the width asked for: its item table is items × 12, the preset's is not.
    const width = async (folder: string) => {
      const { tensors } = decodeTensors(await readFile(join(dir, folder, 'centralized.safetensors')));
      return tensors.item_embedding?.shape[1];
    };
    expect(await width('wide')).toBe(12);
    expect(await width('plain')).toBe(tiny.dim);
  }, 60_000);

  it("--exclude-seen yes leaves each history's own items out of the centralized softmax", async () => {
    const argv = ['--data', 'tiny.txt', '--modes', 'centralized', '--epochs', '3'];
    const plain = capture(dir);
    const excluded = capture(dir);
    expect(await runEvalCli([...argv, '--exclude-seen', 'no'], plain, { full: tiny, quick: tiny })).toBe(0);
    expect(await runEvalCli([...argv, '--exclude-seen', 'yes'], excluded, { full: tiny, quick: tiny })).toBe(0);
    expect(plain.err.join('\n')).not.toMatch(/seen items/u);
    expect(excluded.err.join('\n')).toMatch(/centralized: .*, seen items left out of the softmax/u);
    // Fewer items compete for each next one, so the loss is lower from the first pass.
    const firstLoss = (io: { err: string[] }) =>
      Number(/epoch 1, mean loss ([\d.]+)/u.exec(io.err.join('\n'))?.[1] ?? Number.NaN);
    expect(firstLoss(excluded)).toBeLessThan(firstLoss(plain));
  }, 60_000);

  it("--newest-weight counts each user's newest training example that many times", async () => {
    const argv = ['--data', 'tiny.txt', '--modes', 'centralized', '--epochs', '1'];
    const plain = capture(dir);
    const weighted = capture(dir);
    expect(await runEvalCli(argv, plain, { full: tiny, quick: tiny })).toBe(0);
    expect(await runEvalCli([...argv, '--newest-weight', '3'], weighted, { full: tiny, quick: tiny })).toBe(0);
    const examples = (io: { err: string[] }) =>
      Number(/centralized: (\d+) examples/u.exec(io.err.join('\n'))?.[1] ?? Number.NaN);
    // Two more copies of one example for each of the 120 users.
    expect(examples(weighted) - examples(plain)).toBe(2 * 120);
    expect(plain.err.join('\n')).not.toMatch(/newest example/u);
    expect(weighted.err.join('\n')).toMatch(/centralized: .*, each user's newest example counted 3 times/u);
  }, 60_000);

  it("--teacher trains the centralized model partly on a saved model's predictions (or several models' mean), and refuses one that does not fit", async () => {
    const argv = ['--data', 'tiny.txt', '--modes', 'centralized', '--epochs', '2'];
    expect(await runEvalCli([...argv, '--save-models', 'teacher'], capture(dir), { full: tiny, quick: tiny })).toBe(0);
    const plain = capture(dir);
    const taught = capture(dir);
    expect(await runEvalCli(argv, plain, { full: tiny, quick: tiny })).toBe(0);
    const flags = ['--teacher', 'teacher/centralized.safetensors', '--teacher-weight', '0.7'];
    expect(await runEvalCli([...argv, ...flags], taught, { full: tiny, quick: tiny })).toBe(0);
    expect(plain.err.join('\n')).not.toMatch(/teacher/u);
    expect(taught.err.join('\n')).toMatch(
      /centralized: .*, 0\.7 of each target from the teacher .*centralized\.safetensors/u,
    );
    // Against the teacher's spread-out predictions, the loss falls less than against the next item alone.
    const lastLoss = (io: { err: string[] }) =>
      Number(/epoch 2, mean loss ([\d.]+)/u.exec(io.err.join('\n'))?.[1] ?? Number.NaN);
    expect(lastLoss(taught)).not.toBeCloseTo(lastLoss(plain), 3);
    // Given twice: the mean of two models' predictions, which differs from either one's.
    const second = ['--seed', '2', '--save-models', 'teacher2'];
    expect(await runEvalCli([...argv, ...second], capture(dir), { full: tiny, quick: tiny })).toBe(0);
    const pair = capture(dir);
    const both = [...flags, '--teacher', 'teacher2/centralized.safetensors'];
    expect(await runEvalCli([...argv, ...both], pair, { full: tiny, quick: tiny })).toBe(0);
    expect(pair.err.join('\n')).toMatch(
      /0\.7 of each target from the mean of the teachers .*teacher\/centralized\.safetensors, .*teacher2\/centralized\.safetensors/u,
    );
    expect(lastLoss(pair)).not.toBeCloseTo(lastLoss(taught), 3);
    const wide = capture(dir);
    expect(await runEvalCli([...argv, ...flags, '--dim', '12'], wide, { full: tiny, quick: tiny })).toBe(2);
    expect(wide.err.join('\n')).toMatch(/teacher\/centralized\.safetensors: Model weights do not fit the model/u);
    const missing = capture(dir);
    expect(await runEvalCli([...argv, '--teacher', 'none.safetensors'], missing, { full: tiny, quick: tiny })).toBe(2);
    expect(missing.err.join('\n')).toMatch(/none\.safetensors: ENOENT/u);
  }, 60_000);

  it.each([
    [['--data', 'missing.txt'], /Cannot read data file .*missing\.txt/u],
    [['--data', 'empty.txt'], /empty\.txt holds no interactions/u],
    [['--data', 'malformed.txt'], /malformed\.txt, line 3: expected "user item/u],
    [['--modes', 'popularity'], /Missing --data/u],
    [['--data', 'tiny.txt', '--modes', 'popularity,best'], /Invalid option --modes.*Expected modes among/u],
    [['--data', 'tiny.txt', '--seed', '-3'], /seed|Option/u],
    [['--data', 'tiny.txt', '--epochs', 'three'], /Invalid option --epochs/u],
    [['--data', 'tiny.txt', '--contrastive-temperature', '0'], /Invalid option --contrastive-temperature/u],
    [['--data', 'tiny.txt', '--contrastive-weight', '-1'], /contrastive-weight|Option/u],
    [['--data', 'tiny.txt', '--contrastive-positive', 'other'], /Expected augmented or same-next-item/u],
    [['--data', 'tiny.txt', '--average-decay', '1'], /Invalid option --average-decay: Expected a decay below 1/u],
    [['--data', 'tiny.txt', '--label-smoothing', '1'], /Invalid option --label-smoothing: Expected ε below 1/u],
    [['--data', 'tiny.txt', '--dim', '2'], /Invalid option --dim: Expected a width of at least 4/u],
    [['--data', 'tiny.txt', '--exclude-seen', 'maybe'], /Invalid option --exclude-seen: Expected yes or no/u],
    [
      ['--data', 'tiny.txt', '--newest-weight', '0'],
      /Invalid option --newest-weight: Expected a weight of at least 1/u,
    ],
    [['--data', 'tiny.txt', '--steps', '3'], /Unknown option '--steps'/u],
  ])('exits with status 2 and says why for %j', async (argv, message) => {
    const io = capture(dir);
    expect(await runEvalCli(argv, io, { full: tiny, quick: tiny })).toBe(2);
    expect(io.err.join('\n')).toMatch(message);
    expect(io.out).toEqual([]);
  });
});
