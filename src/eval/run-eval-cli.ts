import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { CoVisits } from '../core/co-visits.js';
import { OmniPersonaError } from '../core/errors.js';
import type { BackendName } from '../core/model/model-runtime.js';
import { seededRandom } from '../core/random.js';
import { selectBackend } from '../ml/select-backend.js';
import { EVAL_USAGE, type EvalArgs, parseEvalArgs } from './eval-args.js';
import { type ModelFiles, runEvalMode } from './eval-mode.js';
import type { EvalReport, EvalResult } from './eval-report.js';
import { EVAL_PRESETS, type EvalPresets, type EvalSettings } from './eval-settings.js';
import { type Interactions, readInteractions } from './interactions.js';
import { leaveOneOut } from './leave-one-out.js';
import { modelSetup } from './model-setup.js';
import { PERSONALIZATION_MIN_EVENTS, personalizationShoppers } from './personalization.js';
import { resultsTable } from './results-table.js';
import { sampleIndices } from './sample-indices.js';
import type { ServerRoundMetrics } from './train-via-server.js';

/** What the evaluation touches outside itself, so that tests can run it in-process. */
export interface EvalIo {
  /** The table and the final summary. */
  stdout(line: string): void;
  /** Progress and errors. */
  stderr(line: string): void;
  /** Where relative `--data` and `--json` paths start. */
  cwd: string;
}

const processIo: EvalIo = {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  // npm runs scripts from the package root; INIT_CWD is where `npm run eval` was typed.
  cwd: process.env.INIT_CWD ?? process.cwd(),
};

/** Codes that mean the command line or the data file is wrong (exit status 2), not the evaluation. */
const USAGE_CODES: ReadonlySet<OmniPersonaError['code']> = new Set(['INVALID_OPTIONS', 'INVALID_REQUEST']);

/**
 * Runs `npm run eval` with `argv` (without the node and script paths): reads the data set, splits
 * it leave-one-out, runs each mode, prints one table and optionally writes JSON.
 * @returns the exit status: 0 done, 1 failed during the evaluation, 2 bad flags or data.
 * @example
 * ```ts
 * const status = await runEvalCli(['--data', '../shared/data/Beauty.txt', '--quick']);
 * ```
 */
export async function runEvalCli(
  argv: readonly string[],
  io: EvalIo = processIo,
  presets: EvalPresets = EVAL_PRESETS,
): Promise<number> {
  try {
    const args = parseEvalArgs(argv);
    if (args.help) {
      io.stdout(EVAL_USAGE);
      return 0;
    }
    const results = await evaluate(args, io, presets);
    return args.check && !beatsPopularity(results, io) ? 1 : 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`eval: ${message}`);
    if (error instanceof OmniPersonaError && error.code === 'INVALID_OPTIONS') {
      io.stderr('Run npm run eval -- --help for usage.');
    }
    return error instanceof OmniPersonaError && USAGE_CODES.has(error.code) ? 2 : 1;
  }
}

/**
 * Whether every trained model mode ranked better than popularity (HR@10), as `--check` demands;
 * says which did not. Without a popularity row there is nothing to beat.
 */
function beatsPopularity(results: readonly EvalResult[], io: EvalIo): boolean {
  const floor = results.find((result) => result.mode === 'popularity')?.['HR@10'];
  if (floor === undefined) return true;
  // Rows over a subset of the users rank other shoppers than popularity's row.
  const behind = results.filter(
    (result) => result.mode !== 'popularity' && result.users === undefined && result['HR@10'] <= floor,
  );
  for (const result of behind) {
    io.stderr(
      `eval: --check: ${result.mode} HR@10 ${result['HR@10'].toFixed(4)} does not beat popularity's ${floor.toFixed(4)}`,
    );
  }
  return behind.length === 0;
}

/** The centralized contrastive term: the preset's, with the flags' values over it; `--contrastive-weight 0` turns it off. */
function contrastive(
  args: EvalArgs,
  preset: EvalSettings['centralized']['contrastive'],
): Pick<EvalSettings['centralized'], 'contrastive'> {
  const weight = args.contrastiveWeight ?? preset?.weight ?? 0;
  if (weight === 0) return {};
  const temperature = args.contrastiveTemperature ?? preset?.temperature ?? 1;
  const positive = args.contrastivePositive ?? preset?.positive;
  return { contrastive: { weight, temperature, ...(positive === undefined ? {} : { positive }) } };
}

/** The centralized weight average of decay `decay`; none for 0 or undefined. */
function averaging(decay: number | undefined): Pick<EvalSettings['centralized'], 'averageDecay'> {
  return decay ? { averageDecay: decay } : {};
}

/** Centralized label smoothing of ε; none for 0 or undefined. */
function smoothing(epsilon: number | undefined): Pick<EvalSettings['centralized'], 'labelSmoothing'> {
  return epsilon ? { labelSmoothing: epsilon } : {};
}

/** Whether the centralized training leaves seen items out of its softmax; omitted when not. */
function seenLeftOut(exclude: boolean | undefined): Pick<EvalSettings['centralized'], 'excludeSeen'> {
  return exclude ? { excludeSeen: true } : {};
}

/** How often each user's newest example counts; omitted for once. */
function newestCounted(weight: number | undefined): Pick<EvalSettings['centralized'], 'newestWeight'> {
  return weight && weight > 1 ? { newestWeight: weight } : {};
}

async function evaluate(args: EvalArgs, io: EvalIo, presets: EvalPresets): Promise<EvalResult[]> {
  const started = performance.now();
  const preset = args.quick ? presets.quick : presets.full;
  const settings: EvalSettings = {
    ...preset,
    dim: args.dim ?? preset.dim,
    centralized: {
      ...preset.centralized,
      epochs: args.epochs ?? preset.centralized.epochs,
      learningRate: args.learningRate ?? preset.centralized.learningRate,
      ...contrastive(args, preset.centralized.contrastive),
      ...averaging(args.averageDecay ?? preset.centralized.averageDecay),
      ...smoothing(args.labelSmoothing ?? preset.centralized.labelSmoothing),
      ...seenLeftOut(args.excludeSeen ?? preset.centralized.excludeSeen),
      ...newestCounted(args.newestWeight ?? preset.centralized.newestWeight),
      ...(args.teacher === undefined
        ? {}
        : {
            teacher: {
              files: args.teacher.map((file) => resolve(io.cwd, file)),
              weight: args.teacherWeight ?? 0.5,
            },
          }),
    },
    federated: {
      ...preset.federated,
      rounds: args.rounds ?? preset.federated.rounds,
      updateRank: args.updateRank ?? preset.federated.updateRank,
    },
    coVisits: { ...preset.coVisits, weight: args.coVisits ?? preset.coVisits.weight },
    personalizationUsers: args.personalize ?? preset.personalizationUsers,
  };
  const data = await readInteractions(resolve(io.cwd, args.data));
  const sequences = subset(data, settings.users, args.seed);
  const allTraining = leaveOneOut(sequences);
  const cases = args.target === 'test' ? allTraining.test : allTraining.validation;
  if (cases.length === 0) {
    throw new OmniPersonaError('INVALID_REQUEST', `${args.data}: no user has the three items leave-one-out needs`);
  }
  const shoppers = personalizationShoppers(cases, settings.personalizationUsers, args.seed);
  if (args.unseenShoppers && shoppers.length === 0) {
    throw new OmniPersonaError('INVALID_OPTIONS', '--unseen-shoppers needs personalisation shoppers (--personalize N)');
  }
  // The cases and the training sequences are per user, in the same order.
  const unseen = new Set(args.unseenShoppers ? shoppers : []);
  const split = { ...allTraining, train: allTraining.train.filter((_, user) => !unseen.has(user)) };
  const items = data.items.length;
  const backend = args.modes.some((mode) => mode !== 'popularity') ? await modelBackend() : undefined;
  const skipped = split.skipped > 0 ? ` (${split.skipped} with fewer than 3 items left out)` : '';
  const sampled = settings.users === undefined ? '' : ` drawn from ${data.users.length}`;
  io.stderr(
    `eval: ${args.data}: ${cases.length} users${sampled}${skipped}, ${items} items; backend ${backend ?? 'none'}`,
  );

  const setup = modelSetup(items, settings.dim, args.seed);
  const modelFiles: ModelFiles | undefined =
    args.saveModels === undefined && args.loadModels === undefined
      ? undefined
      : {
          ...(args.saveModels === undefined ? {} : { save: resolve(io.cwd, args.saveModels) }),
          ...(args.loadModels === undefined ? {} : { load: resolve(io.cwd, args.loadModels) }),
          // What the training depends on. Not the target: models train on the same sequences for
          // either, so a model saved by a test run ranks the validation targets, and back.
          run: {
            data: basename(args.data),
            users: String(sequences.length),
            seed: String(args.seed),
            dim: String(settings.dim),
            ...(unseen.size > 0 ? { unseenShoppers: String(unseen.size) } : {}),
          },
        };
  // Counted from what the models train on: the shop's histories, as the server counts them.
  const coVisits =
    settings.coVisits.weight > 0 && args.modes.some((mode) => mode !== 'popularity')
      ? { table: CoVisits.count(split.train, items, settings.coVisits), options: settings.coVisits }
      : undefined;
  if (coVisits) io.stderr(`eval: co-visits: ${coVisits.table.size} pairs, weight ${settings.coVisits.weight}`);
  const results: EvalResult[] = [];
  let serverProgress: ServerRoundMetrics[] | undefined;
  for (const mode of args.modes) {
    const modeStarted = performance.now();
    const log = (line: string) => io.stderr(`eval: ${line}`);
    const { metrics, modelAlone, quantized, personalization, progress } = await runEvalMode(mode, {
      split,
      cases,
      items,
      setup,
      settings,
      shoppers,
      log,
      ...(modelFiles ? { modelFiles } : {}),
      ...(coVisits ? { coVisits } : {}),
    });
    const seconds = Math.round((performance.now() - modeStarted) / 100) / 10;
    results.push({ mode, ...metrics, seconds });
    if (progress) serverProgress = progress;
    log(`${mode}: HR@10 ${metrics['HR@10'].toFixed(4)}, NDCG@10 ${metrics['NDCG@10'].toFixed(4)} in ${seconds} s`);
    if (modelAlone) results.push({ mode: `${mode}, model alone`, ...modelAlone, seconds: 0 });
    // Rows such as `centralized@F16`: the same trained model, downloaded in that encoding.
    for (const row of quantized) results.push({ mode: `${mode}@${row.dtype}`, ...row.metrics, seconds: 0 });
    // The same model for shoppers with enough events, alone and fine-tuned on each one's own events.
    if (personalization) {
      const group = `${PERSONALIZATION_MIN_EVENTS}+ events`;
      const users = personalization.users;
      results.push({ mode: `${mode}, ${group}`, ...personalization.global, seconds: 0, users });
      const { rankedHigher, rankedLower } = personalization;
      results.push({
        mode: `${mode} fine-tuned, ${group}`,
        ...personalization.personal,
        seconds: 0,
        users,
        rankedHigher,
        rankedLower,
      });
    }
  }

  const report: EvalReport = {
    data: args.data,
    users: cases.length,
    items,
    results,
    ...(backend === undefined ? {} : { backend }),
    target: args.target,
    quick: args.quick,
    seed: args.seed,
    ...(unseen.size > 0 ? { unseenShoppers: unseen.size } : {}),
    ...(serverProgress ? { serverProgress } : {}),
  };
  io.stdout(
    `${args.data}: ${report.users} users, ${items} items; ${args.target} target; ` +
      `backend ${backend ?? 'none'}; seed ${args.seed}${args.quick ? '; quick' : ''}` +
      (unseen.size > 0 ? `; models trained without the ${unseen.size} personalisation shoppers` : ''),
  );
  for (const line of resultsTable(results)) io.stdout(line);
  if (serverProgress) {
    io.stdout('federated-server, the global model after each checkpoint (sampled cases):');
    io.stdout('round  version  HR@10   NDCG@10');
    for (const { round, version, metrics } of serverProgress) {
      io.stdout(
        `${String(round).padStart(5)}  ${String(version).padStart(7)}  ${metrics['HR@10'].toFixed(4)}  ${metrics['NDCG@10'].toFixed(4)}`,
      );
    }
  }
  io.stdout(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (args.json !== undefined) {
    const path = resolve(io.cwd, args.json);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
    io.stderr(`eval: wrote ${path}`);
  }
  return results;
}

/** The sequences of `users` users drawn with `seed`, in file order; all of them when undefined. */
function subset(data: Interactions, users: number | undefined, seed: number): Int32Array[] {
  if (users === undefined || users >= data.sequences.length) return data.sequences;
  const drawn = sampleIndices(data.sequences.length, users, seededRandom(seed)).sort((a, b) => a - b);
  return drawn.map((user) => data.sequences[user] as Int32Array);
}

/**
 * WASM, as in a browser without a usable GPU; CPU when it fails. In Node, WASM runs this model
 * about 12× faster than TF.js' CPU backend (`@tensorflow/tfjs-node` is not a dependency).
 */
async function modelBackend(): Promise<BackendName> {
  const { backend } = await selectBackend({ preference: 'wasm', initTimeoutMs: 30_000 });
  return backend;
}
