import { parseArgs } from 'node:util';
import * as v from 'valibot';
import { OmniPersonaError } from '../core/errors.js';
import { formatIssues } from '../server/format-issues.js';
import { DEFAULT_EVAL_MODES, EVAL_MODES, type EvalMode } from './eval-mode.js';
import type { EvalTarget } from './leave-one-out.js';

/** The command line of `npm run eval`, checked. */
export interface EvalArgs {
  /** The data file, as given (resolved against the working directory by the caller). */
  data: string;
  modes: EvalMode[];
  quick: boolean;
  json?: string;
  seed: number;
  target: EvalTarget;
  /** Fail (exit status 1) when a trained model does not beat popularity's HR@10. */
  check: boolean;
  /** Overrides the preset's centralized epochs. */
  epochs?: number;
  /** Overrides the preset's centralized learning rate (where its decay starts). */
  learningRate?: number;
  /** Weight of the centralized training's contrastive term, instead of the preset's (0: none). */
  contrastiveWeight?: number;
  /** Temperature of that term, instead of the preset's (1 when neither sets it). */
  contrastiveTemperature?: number;
  /** What that term pairs each history with, instead of the preset's ('augmented' when neither sets it). */
  contrastivePositive?: 'augmented' | 'sameNextItem';
  /** The centralized model ends with this exponential moving average of its weights (`averageDecay`); 0: the last step's. */
  averageDecay?: number;
  /** ε of the centralized training's label smoothing (`labelSmoothing`), instead of the preset's (0: none). */
  labelSmoothing?: number;
  /** Whether the centralized training leaves each history's own items out of its softmax (`excludeSeen`), instead of the preset's. */
  excludeSeen?: boolean;
  /** How many times each user's newest training example counts in a centralized epoch, instead of the preset's. */
  newestWeight?: number;
  /** Saved models whose mean prediction the centralized training learns from too (knowledge distillation). */
  teacher?: string[];
  /** The share of each target the teachers' prediction makes (0.5 unless set). */
  teacherWeight?: number;
  /** The co-visits' weight in the models' scores instead of the preset's; 0 for the models alone. */
  coVisits?: number;
  /** The embedding width of every trained model, instead of the preset's. */
  dim?: number;
  /** Overrides the preset's federated rounds. */
  rounds?: number;
  /** Federated clients send rank-n factors in int8 as devices do (`core/sync/low-rank.ts`); 0: dense float32. */
  updateRank?: number;
  /** Overrides the preset's number of shoppers fine-tuned for the personalisation rows (0: none). */
  personalize?: number;
  /**
   * Leave the personalisation shoppers out of training, so that the global model has never seen
   * their events, as for a new shopper or the events since the last global model.
   */
  unseenShoppers: boolean;
  /** A folder to write each trained model to, as `<mode>.safetensors`. */
  saveModels?: string;
  /** A folder of models a run with the same data and settings saved: they are ranked instead of trained. */
  loadModels?: string;
  help: boolean;
}

/** What `--help` prints. */
export const EVAL_USAGE = `Usage: npm run eval -- --data <file> [options]

Offline evaluation of the on-device recommender, in Node with the same model code as the browser:
leave-one-out per user, every item ranked (the user's history left out), HR and NDCG at 5, 10, 20.

Options:
  --data <file>        Data set: "user item1 item2 ..." per line, or "user item" pairs grouped by
                       user, oldest first (required)
  --modes <list>       Comma-separated, from ${EVAL_MODES.join(', ')} (default
                       ${DEFAULT_EVAL_MODES.join(', ')}); federated-server trains through a live sync
                       server over HTTP, as devices do, and ranks the model round after round
  --quick              A seeded subset of users and short training, for CI (about 2 minutes)
  --json <file>        Also write the results as JSON
  --seed <n>           Seed of the subset, the first weights and the client sampling (default 1)
  --target <which>     test (the last item, default) or validation (the one before, for tuning)
  --check              Exit with status 1 when a model mode does not beat popularity on HR@10
  --epochs <n>         Centralized training epochs instead of the preset's
  --learning-rate <r>  Centralized learning rate at the first step instead of the preset's (the
                       preset's decay to the last step applies to it)
  --contrastive-weight <λ>
                       The weight of centralized training's contrastive term (two views of each
                       history, InfoNCE over the batch) instead of the preset's (0.1; 0: none)
  --contrastive-temperature <τ>
                       That term's temperature instead of the preset's (1)
  --contrastive-positive <which>
                       What each history is pulled toward: same-next-item (another history whose
                       next item is the same, DuoRec's supervised positive; the preset's) or
                       augmented (itself, read again with its own step dropout and dropout)
  --average-decay <β>  The centralized model ends with an exponential moving average of its
                       weights after each step, of decay β (0.999: about the last 1,000 steps),
                       instead of the preset's (0: the last step's weights)
  --label-smoothing <ε>
                       Centralized training's cross-entropy against 1 − ε on the next item and ε
                       spread over every item, instead of the preset's (0: the plain target)
  --exclude-seen <yes|no>
                       Whether the centralized training leaves each history's own items (bar the
                       next one) out of its softmax, as the ranking leaves them out, instead of the
                       preset's (no)
  --newest-weight <n>  Each user's newest training example counts n times in every epoch of the
                       centralized training, instead of the preset's (1: as often as the others)
  --teacher <file>     Knowledge distillation: the centralized training's targets are partly a
                       saved model's predictions (a centralized.safetensors of --save-models, same
                       data and width) for each whole training history; given more than once, the
                       mean of the models' predictions (an ensemble's)
  --teacher-weight <α> The teachers' share of each target (default 0.5)
  --co-visits <w>      The weight of the co-visits table (what shoppers went on to after each item,
                       counted from the training histories) added to the models' scores, instead of
                       the preset's (1.5); 0: the models alone. Each model mode also reports its
                       model alone
  --dim <n>            The embedding width of the trained models instead of the preset's (64)
  --rounds <n>         Federated rounds instead of the preset's
  --update-rank <n>    Federated clients send their updates as devices do: rank-n factors in int8,
                       rounded stochastically (0: dense float32, the default)
  --personalize <n>    Shoppers with 10+ events fine-tuned for the personalisation rows (0: none)
  --unseen-shoppers    Leave those shoppers out of training: the global model has not seen them
  --save-models <dir>  Write each trained model to <dir>/<mode>.safetensors
  --load-models <dir>  Rank the models an earlier run with the same data, seed and training
                       settings saved there, instead of training them again
  -h, --help           Show this help`;

const Seed = v.pipe(v.string(), v.digits('Expected a non-negative integer'), v.maxLength(9), v.transform(Number));

const Count = v.pipe(v.string(), v.digits('Expected a non-negative integer'), v.maxLength(6), v.transform(Number));

/** A decimal number on the command line. */
const Decimal = v.pipe(v.string(), v.decimal('Expected a decimal number'), v.transform(Number));

const Rate = v.pipe(Decimal, v.gtValue(0, 'Expected a positive rate'), v.maxValue(1, 'Expected a rate of at most 1'));

const NonNegative = v.pipe(
  Decimal,
  v.minValue(0, 'Expected a number of at least 0'),
  v.maxValue(100, 'Expected a number of at most 100'),
);

const Positive = v.pipe(
  Decimal,
  v.gtValue(0, 'Expected a positive number'),
  v.maxValue(100, 'Expected a number of at most 100'),
);

const Modes = v.pipe(
  v.string(),
  v.transform((list) => list.split(',').map((mode) => mode.trim())),
  v.array(v.picklist(EVAL_MODES, `Expected modes among ${EVAL_MODES.join(', ')}`)),
  v.minLength(1, 'Expected at least one mode'),
  v.transform((modes) => [...new Set(modes)]),
);

const FlagsSchema = v.object({
  data: v.optional(v.pipe(v.string(), v.minLength(1, 'Expected a file path'))),
  modes: v.optional(Modes, DEFAULT_EVAL_MODES.join(',')),
  quick: v.optional(v.boolean(), false),
  json: v.optional(v.pipe(v.string(), v.minLength(1, 'Expected a file path'))),
  seed: v.optional(Seed, '1'),
  target: v.optional(v.picklist(['test', 'validation'], 'Expected test or validation'), 'test'),
  check: v.optional(v.boolean(), false),
  epochs: v.optional(Count),
  'learning-rate': v.optional(Rate),
  'contrastive-weight': v.optional(NonNegative),
  'contrastive-temperature': v.optional(Positive),
  'contrastive-positive': v.optional(
    v.pipe(
      v.picklist(['augmented', 'same-next-item'], 'Expected augmented or same-next-item'),
      v.transform((which) => (which === 'same-next-item' ? 'sameNextItem' : which)),
    ),
  ),
  'average-decay': v.optional(
    v.pipe(Decimal, v.minValue(0, 'Expected a decay of at least 0'), v.ltValue(1, 'Expected a decay below 1')),
  ),
  'label-smoothing': v.optional(
    v.pipe(Decimal, v.minValue(0, 'Expected ε of at least 0'), v.ltValue(1, 'Expected ε below 1')),
  ),
  'exclude-seen': v.optional(
    v.pipe(
      v.picklist(['yes', 'no'], 'Expected yes or no'),
      v.transform((answer) => answer === 'yes'),
    ),
  ),
  'newest-weight': v.optional(
    v.pipe(
      Count,
      v.minValue(1, 'Expected a weight of at least 1'),
      v.maxValue(100, 'Expected a weight of at most 100'),
    ),
  ),
  teacher: v.optional(v.array(v.pipe(v.string(), v.minLength(1, 'Expected a model file')))),
  'teacher-weight': v.optional(
    v.pipe(Decimal, v.minValue(0, 'Expected a weight of at least 0'), v.maxValue(1, 'Expected a weight of at most 1')),
  ),
  'co-visits': v.optional(NonNegative),
  dim: v.optional(
    v.pipe(Count, v.minValue(4, 'Expected a width of at least 4'), v.maxValue(512, 'Expected a width of at most 512')),
  ),
  rounds: v.optional(Count),
  'update-rank': v.optional(v.pipe(Count, v.maxValue(16, 'Expected a rank of at most 16'))),
  personalize: v.optional(Count),
  'unseen-shoppers': v.optional(v.boolean(), false),
  'save-models': v.optional(v.pipe(v.string(), v.minLength(1, 'Expected a folder'))),
  'load-models': v.optional(v.pipe(v.string(), v.minLength(1, 'Expected a folder'))),
  help: v.optional(v.boolean(), false),
});

/**
 * Parses and checks the flags.
 * @throws OmniPersonaError `INVALID_OPTIONS` naming the bad flag, or when `--data` is missing.
 */
export function parseEvalArgs(argv: readonly string[]): EvalArgs {
  let values: unknown;
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        data: { type: 'string' },
        modes: { type: 'string' },
        quick: { type: 'boolean' },
        json: { type: 'string' },
        seed: { type: 'string' },
        target: { type: 'string' },
        check: { type: 'boolean' },
        epochs: { type: 'string' },
        'learning-rate': { type: 'string' },
        'contrastive-weight': { type: 'string' },
        'contrastive-temperature': { type: 'string' },
        'contrastive-positive': { type: 'string' },
        'average-decay': { type: 'string' },
        'label-smoothing': { type: 'string' },
        'exclude-seen': { type: 'string' },
        'newest-weight': { type: 'string' },
        teacher: { type: 'string', multiple: true },
        'teacher-weight': { type: 'string' },
        'co-visits': { type: 'string' },
        dim: { type: 'string' },
        rounds: { type: 'string' },
        'update-rank': { type: 'string' },
        personalize: { type: 'string' },
        'unseen-shoppers': { type: 'boolean' },
        'save-models': { type: 'string' },
        'load-models': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (error) {
    throw new OmniPersonaError('INVALID_OPTIONS', error instanceof Error ? error.message : String(error));
  }
  const result = v.safeParse(FlagsSchema, values);
  if (!result.success) {
    throw new OmniPersonaError('INVALID_OPTIONS', `Invalid option --${formatIssues(result.issues, 1)}`);
  }
  const {
    data,
    json,
    epochs,
    'learning-rate': learningRate,
    'contrastive-weight': contrastiveWeight,
    'contrastive-temperature': contrastiveTemperature,
    'contrastive-positive': contrastivePositive,
    'average-decay': averageDecay,
    'label-smoothing': labelSmoothing,
    'exclude-seen': excludeSeen,
    'newest-weight': newestWeight,
    teacher,
    'teacher-weight': teacherWeight,
    'co-visits': coVisits,
    dim,
    rounds,
    'update-rank': updateRank,
    personalize,
    'unseen-shoppers': unseenShoppers,
    'save-models': saveModels,
    'load-models': loadModels,
    ...flags
  } = result.output;
  if (data === undefined && !flags.help) throw new OmniPersonaError('INVALID_OPTIONS', 'Missing --data <file>');
  const overrides = Object.entries({
    json,
    epochs,
    learningRate,
    contrastiveWeight,
    contrastiveTemperature,
    contrastivePositive,
    averageDecay,
    labelSmoothing,
    excludeSeen,
    newestWeight,
    teacher,
    teacherWeight,
    coVisits,
    dim,
    rounds,
    updateRank,
    personalize,
    saveModels,
    loadModels,
  }).filter(([, value]) => value !== undefined);
  return { ...flags, data: data ?? '', unseenShoppers, ...Object.fromEntries(overrides) };
}
