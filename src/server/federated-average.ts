import { OmniPersonaError } from '../core/errors.js';
import type { WeightSet } from '../core/model/weights.js';
import { gaussian } from '../core/random.js';
import { clipScaled, type ScaledTensor } from '../core/sync/factored-norm.js';
import { addFactorProducts, FACTOR_SUFFIX, type ScaledFactors } from '../core/sync/low-rank.js';

/** `target += Σ scaleᵢ × Uᵢ·Vᵢ` over factor pairs that multiply out to one shape, as `addFactorProducts` does. */
export type FactorProducts = (target: Float64Array, pairs: readonly ScaledFactors[]) => void;

/** One device's contribution to a round. */
export interface WeightedDelta {
  /**
   * Dense, or with matrices as low-rank factors (`core/sync/low-rank.ts`), which are multiplied out
   * here; int8 tensors of a payload are summed from their integers, never converted first.
   */
  delta: Readonly<Record<string, ScaledTensor>>;
  /** Training examples behind the delta: its weight in the average. */
  examples: number;
  /**
   * For a tensor named here, the rows (first index) the delta carries; its other rows are not part
   * of the update, whatever they hold, and a row is averaged over the deltas that carry it. Tensors
   * not named are dense.
   */
  rows?: Readonly<Record<string, Int32Array>>;
}

interface TensorSum {
  shape: number[];
  sum: Float64Array;
  /** Examples behind each row (the first index): the row's divisor. */
  rowExamples: Float64Array;
}

/**
 * The weighted mean of a round's deltas, `Σ(nᵢ·Δᵢ) / Σnᵢ`, row by row over the deltas that carry
 * the row (every delta carries every row of a dense tensor), added one delta at a time so that a
 * round of many devices never holds all their deltas at once. Sums run in float64, so that the
 * result does not depend on the order of the updates beyond float32 rounding.
 *
 * With row-sparse deltas, an item row sent by one device in a round of a hundred moves by that
 * device's delta, not by a hundredth of it, and a row no device sent does not move. Devices send
 * dense updates today (gradient steps, whose dense mean is the gradient of every device's events).
 */
export class DeltaAverage {
  readonly #sums = new Map<string, TensorSum>();
  #examples = 0;
  #count = 0;
  /** Whether a delta carried only some rows of a tensor: the sums then have per-row divisors. */
  #sparse = false;

  readonly #products: FactorProducts;

  /**
   * `like` gives the tensor names and sizes every delta must have (the model's weights); `products`
   * multiplies factored deltas out (`addFactorProducts` unless another kernel is given).
   */
  constructor(like: WeightSet, products: FactorProducts = addFactorProducts) {
    this.#products = products;
    for (const [name, tensor] of Object.entries(like)) {
      const rows = tensor.shape[0] ?? 1;
      this.#sums.set(name, {
        shape: [...tensor.shape],
        sum: new Float64Array(tensor.data.length),
        rowExamples: new Float64Array(rows),
      });
    }
  }

  /** Deltas added, those inside sums ({@link addSum}) included. */
  get count(): number {
    return this.#count;
  }

  /** Σ weights (examples) of the deltas added. */
  get weight(): number {
    return this.#examples;
  }

  /**
   * @throws OmniPersonaError `INVALID_PAYLOAD` when `delta` lacks a tensor, has another size, or
   * lists a row outside its tensor.
   */
  add(delta: WeightedDelta): void {
    this.addAll([delta]);
  }

  /**
   * {@link add} for each delta, faster than one at a time: each tensor's factored parts are
   * multiplied out together (`addFactorProducts`). None is added when one is invalid.
   */
  addAll(deltas: readonly WeightedDelta[]): void {
    for (const { delta, rows } of deltas) this.#check(delta, rows);
    for (const [name, { shape, sum, rowExamples }] of this.#sums) {
      const width = sum.length / rowExamples.length;
      const factored: ScaledFactors[] = [];
      for (const { delta, examples, rows } of deltas) {
        const factors = delta[name] ? undefined : factorsOf(delta, name, shape);
        if (factors) {
          const { u, v } = factors;
          factored.push({ u, v, scale: examples * (u.scale ?? 1) * (v.scale ?? 1) });
          for (let row = 0; row < rowExamples.length; row++) rowExamples[row] = (rowExamples[row] as number) + examples;
          continue;
        }
        const { data, scale = 1 } = delta[name] as ScaledTensor;
        const weight = examples * scale;
        const listed = rows?.[name];
        if (!listed) {
          for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] as number) + weight * (data[i] as number);
          for (let row = 0; row < rowExamples.length; row++) rowExamples[row] = (rowExamples[row] as number) + examples;
          continue;
        }
        this.#sparse = true;
        for (const row of new Set(listed)) {
          for (let i = row * width; i < (row + 1) * width; i++) {
            sum[i] = (sum[i] as number) + weight * (data[i] as number);
          }
          rowExamples[row] = (rowExamples[row] as number) + examples;
        }
      }
      if (factored.length > 0) this.#products(sum, factored);
    }
    for (const { examples } of deltas) this.#examples += examples;
    this.#count += deltas.length;
  }

  #check(delta: WeightedDelta['delta'], rows: WeightedDelta['rows']): void {
    for (const [name, { shape, sum, rowExamples }] of this.#sums) {
      const part = delta[name];
      if (!part && factorsOf(delta, name, shape)) continue;
      if (!part || part.data.length !== sum.length) {
        throw new OmniPersonaError('INVALID_PAYLOAD', `Update lacks tensor "${name}" of ${sum.length} values`);
      }
      const listed = rows?.[name];
      if (listed?.some((row) => !(row >= 0 && row < rowExamples.length))) {
        throw new OmniPersonaError('INVALID_PAYLOAD', `Update lists a row outside tensor "${name}"`);
      }
    }
  }

  /**
   * The weighted sums so far, `Σ(nᵢ·Δᵢ)`, in float32: what {@link addSum} takes back, so that a round
   * can be summed in parts (each write of a busy server stores one part).
   * @throws OmniPersonaError `INTERNAL` after a row-sparse delta, whose rows have divisors of their own.
   */
  sums(): WeightSet {
    if (this.#sparse) throw new OmniPersonaError('INTERNAL', 'The sums of row-sparse deltas have per-row divisors');
    const sums: WeightSet = {};
    for (const [name, { shape, sum }] of this.#sums) sums[name] = { shape: [...shape], data: Float32Array.from(sum) };
    return sums;
  }

  /**
   * Adds the {@link sums} of another average of dense deltas, which stand for `count` deltas of total
   * weight `weight`.
   * @throws OmniPersonaError `INVALID_PAYLOAD` when `sums` lacks a tensor or has another size.
   */
  addSum(sums: WeightSet, weight: number, count: number): void {
    for (const [name, { sum }] of this.#sums) {
      if (sums[name]?.data.length !== sum.length) {
        throw new OmniPersonaError('INVALID_PAYLOAD', `Sums lack tensor "${name}" of ${sum.length} values`);
      }
    }
    for (const [name, { sum, rowExamples }] of this.#sums) {
      const data = (sums[name] as WeightSet[string]).data;
      for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] as number) + (data[i] as number);
      for (let row = 0; row < rowExamples.length; row++) rowExamples[row] = (rowExamples[row] as number) + weight;
    }
    this.#examples += weight;
    this.#count += count;
  }

  /** The weighted mean so far (zero in rows no delta carried); undefined before any update with examples. */
  mean(): WeightSet | undefined {
    if (this.#count === 0 || !(this.#examples > 0)) return undefined;
    const mean: WeightSet = {};
    for (const [name, { shape, sum, rowExamples }] of this.#sums) {
      const data = new Float32Array(sum.length);
      const width = sum.length / rowExamples.length;
      rowExamples.forEach((divisor, row) => {
        if (!(divisor > 0)) return;
        for (let i = row * width; i < (row + 1) * width; i++) data[i] = (sum[i] as number) / divisor;
      });
      mean[name] = { shape: [...shape], data };
    }
    return mean;
  }
}

/** The factors of `name` in `delta` when they multiply out to `shape`. */
function factorsOf(delta: WeightedDelta['delta'], name: string, shape: readonly number[]) {
  const u = delta[`${name}${FACTOR_SUFFIX.u}`];
  const v = delta[`${name}${FACTOR_SUFFIX.v}`];
  if (!u || !v || shape.length !== 2 || u.shape.length !== 2 || v.shape.length !== 2) return undefined;
  const fits = u.shape[0] === shape[0] && v.shape[1] === shape[1] && u.shape[1] === v.shape[0];
  return fits ? { u, v } : undefined;
}

/**
 * Federated averaging: `base + Σ(nᵢ·Δᵢ) / Σnᵢ`, row by row as {@link DeltaAverage} takes it.
 * @throws OmniPersonaError `INVALID_PAYLOAD` when a delta lacks a tensor of `base` or has another size.
 */
export function federatedAverage(base: WeightSet, updates: readonly WeightedDelta[]): WeightSet {
  const mean = weightedMean(base, updates);
  return mean ? withStep(base, mean) : base;
}

/**
 * The round's weighted mean update (see {@link DeltaAverage}), shaped like `like`; undefined for a
 * round without examples.
 */
export function weightedMean(like: WeightSet, updates: readonly WeightedDelta[]): WeightSet | undefined {
  const average = new DeltaAverage(like);
  for (const update of updates) average.add(update);
  return average.mean();
}

/** `base + step`, tensor by tensor. */
export function withStep(base: WeightSet, step: WeightSet): WeightSet {
  const result: WeightSet = {};
  for (const [name, tensor] of Object.entries(base)) {
    const add = (step[name] as WeightSet[string]).data;
    result[name] = { shape: [...tensor.shape], data: tensor.data.map((value, i) => value + (add[i] as number)) };
  }
  return result;
}

/** How {@link privateMean} protects a round. */
export interface PrivateMeanOptions {
  /** Each update is scaled down to this L2 norm first. */
  clipNorm: number;
  /** The sum gets Gaussian noise of standard deviation `noiseMultiplier × clipNorm` on every value. */
  noiseMultiplier: number;
  /** Uniform samples in [0, 1); a cryptographic source by default. */
  random?: () => number;
}

/**
 * DP-FedAvg's mean update (McMahan et al., 2018): `(Σ clip(Δᵢ) + N(0, (z·C)²)) / K` over the round's
 * K updates, shaped like `like`; undefined for an empty round. Every update weighs the same, whatever
 * its example count, so that one shopper moves the sum by at most C: the Gaussian mechanism that
 * `privacy-accountant.ts` accounts for. Row lists are ignored: every update is read as dense.
 * @throws OmniPersonaError `INVALID_PAYLOAD` when a delta lacks a tensor of `like` or has another size.
 */
export function privateMean(
  like: WeightSet,
  updates: readonly WeightedDelta[],
  options: PrivateMeanOptions,
): WeightSet | undefined {
  if (updates.length === 0) return undefined;
  const average = new DeltaAverage(like);
  for (const update of updates) average.add(clippedAlike(update, options.clipNorm));
  return withNoise(average.mean() as WeightSet, updates.length, options);
}

/**
 * A round's mean from the {@link DeltaAverage} of its updates (each clipped and weighing 1 under
 * `privacy`): the weighted mean, or with `privacy` DP-FedAvg's, noise included; undefined for an
 * empty round.
 */
export function roundResult(average: DeltaAverage, privacy?: PrivateMeanOptions): WeightSet | undefined {
  const mean = average.mean();
  return privacy && mean ? withNoise(mean, average.count, privacy) : mean;
}

/** DP-FedAvg's view of an update: clipped, and weighing as much as any other. */
function clippedAlike(update: WeightedDelta, clipNorm: number): WeightedDelta {
  return { delta: clipScaled(update.delta, clipNorm), examples: 1 };
}

/** `mean` (of `count` equally weighted updates) plus the Gaussian noise of {@link privateMean}, in place. */
function withNoise(
  mean: WeightSet,
  count: number,
  { clipNorm, noiseMultiplier, random = secureRandom() }: PrivateMeanOptions,
): WeightSet {
  const deviation = (noiseMultiplier * clipNorm) / count;
  for (const tensor of Object.values(mean)) {
    for (let i = 0; i < tensor.data.length; i++)
      tensor.data[i] = (tensor.data[i] as number) + deviation * gaussian(random);
  }
  return mean;
}

/** Uniform samples in [0, 1) from the platform's cryptographic generator, drawn in blocks. */
function secureRandom(): () => number {
  const block = new Uint32Array(4096);
  let next = block.length;
  return () => {
    if (next === block.length) {
      crypto.getRandomValues(block);
      next = 0;
    }
    return (block[next++] as number) / 4294967296;
  };
}
