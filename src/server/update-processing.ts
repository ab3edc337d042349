import { OmniPersonaError } from '../core/errors.js';
import { type ModelConfig, modelSpec } from '../core/model/model-spec.js';
import { tensorSize, type WeightSet } from '../core/model/weights.js';
import { clipScaled, factoredNorm, scaleFactored } from '../core/sync/factored-norm.js';
import { addFactorProducts } from '../core/sync/low-rank.js';
import { encodeTensors, readTensors } from '../core/sync/tensor-codec.js';
import { DeltaAverage, type FactorProducts, type WeightedDelta } from './federated-average.js';
import { STORED_LIMITS } from './store/sql-rows.js';
import { checkUpdate, parseUpdatePayload, scaledTensors, storedValues, type UpdateHeader } from './update-payload.js';

/**
 * The arithmetic of a device's update on the server, as pure functions of bytes: checking one
 * update, and summing many. Neither touches the store, so that a pool of worker threads
 * (`update-workers.ts`) can run them beside the thread that serves HTTP and writes the database.
 */

/** What {@link checkUpdateBytes} is told about the model and the server's bounds. */
export interface UpdateCheck {
  /**
   * The model version most updates are based on, and its shape: an update based on it is checked
   * against that shape, and so is one based on another version when it fits it (versions of one
   * catalog share a shape). None: the header only.
   */
  expected?: { version: number; config: ModelConfig };
  maxBytes: number;
  /** L2 norm updates are clipped to. */
  maxNorm: number;
}

/** An update that fits its model, in the form the store keeps. */
export interface CheckedUpdate {
  /**
   * The update as stored: the request's own bytes when it was within the norm bound; clipped
   * otherwise, re-encoded in int8 when it came in int8 (clipping only rescales it, so int8 keeps it
   * exactly), else in float32.
   */
  encoded: Uint8Array;
  /** Its L2 norm before clipping. */
  norm: number;
}

/**
 * What {@link checkUpdateBytes} found: the update's header, and the update checked against the
 * expected shape; or, when it is based on another version and does not fit that shape, its bytes as
 * they came, to be checked against its own model.
 */
export type UpdateCheckResult =
  | { header: UpdateHeader; checked: CheckedUpdate; bytes?: undefined }
  | { header: UpdateHeader; checked?: undefined; bytes: Uint8Array };

/**
 * Decodes an update payload, checks it against `check.expected`'s shape (tensors, shapes, finite
 * values) and clips it to `maxNorm`. The thread that serves HTTP never parses an update itself: it
 * learns from this answer which model the update is based on, and must still see that the model
 * has the shape it was checked against.
 * @throws OmniPersonaError `INVALID_PAYLOAD` for a malformed update, or one based on the expected
 * version that does not fit it.
 */
export function checkUpdateBytes(bytes: Uint8Array, check: UpdateCheck): UpdateCheckResult {
  const { expected, maxBytes, maxNorm } = check;
  const { tensors, ...header } = parseUpdatePayload(bytes, maxBytes);
  if (!expected) return { header, bytes };
  const problem = checkUpdate({ kind: header.kind, tensors }, expected.config);
  if (problem && header.baseVersion !== expected.version) return { header, bytes };
  if (problem) {
    throw new OmniPersonaError('INVALID_PAYLOAD', `Update does not fit model ${expected.version}: ${problem}`);
  }
  // Factored updates stay factored: the norm comes from their factors, an int8 one's from its
  // integers, so that an update within the bound is never converted to float32.
  const norm = factoredNorm(scaledTensors(tensors));
  if (norm <= maxNorm) return { header, checked: { encoded: bytes, norm } };
  const int8 = Object.values(tensors).every((tensor) => tensor.dtype === 'I8');
  const clipped = scaleFactored(storedValues(tensors), maxNorm / norm);
  return { header, checked: { encoded: encodeTensors(clipped, {}, int8 ? 'I8' : 'F32'), norm } };
}

/** One stored update in a {@link sumUpdates} call. */
export interface UpdatePart {
  /** A {@link CheckedUpdate.encoded} update. */
  encoded: Uint8Array;
  /** Its weight in the sum. */
  weight: number;
  /** DP-FedAvg: each update is scaled down to this L2 norm first. */
  clipNorm?: number;
}

/** The weighted sum of some updates of a round, in float32: what a round keeps as one part. */
export interface UpdateSum {
  /** Σ weightᵢ · Δᵢ, a dense tensor for each of the model's. */
  sums: WeightSet;
  /** Σ weightᵢ. */
  weight: number;
  /** Updates in the sum. */
  count: number;
}

/** Updates decoded at once by {@link sumUpdates}: their factors are multiplied out together. */
const DECODED_AT_ONCE = 16;

/**
 * Σ weightᵢ · Δᵢ over stored updates of a model shaped as `config`, factored matrices multiplied
 * out by `products`. Decodes a few updates at a time, so that a round of thousands is never all
 * in memory as float32.
 * @throws OmniPersonaError `INVALID_PAYLOAD` when a part does not decode or lacks a tensor of `config`.
 */
export function sumUpdates(
  config: ModelConfig,
  parts: readonly UpdatePart[],
  products: FactorProducts = addFactorProducts,
): UpdateSum {
  const average = new DeltaAverage(zeroWeights(config), products);
  for (let start = 0; start < parts.length; start += DECODED_AT_ONCE) {
    const deltas: WeightedDelta[] = parts.slice(start, start + DECODED_AT_ONCE).map(({ encoded, weight, clipNorm }) => {
      // Int8 updates are summed from their integers, never converted to float32 on their own.
      const delta = scaledTensors(readTensors(encoded, STORED_LIMITS).tensors);
      return { delta: clipNorm === undefined ? delta : clipScaled(delta, clipNorm), examples: weight };
    });
    average.addAll(deltas);
  }
  return { sums: average.sums(), weight: average.weight, count: average.count };
}

/** Zero tensors of every shape in `config`'s model: the shapes a round's sums take. */
export function zeroWeights(config: ModelConfig): WeightSet {
  return Object.fromEntries(
    modelSpec(config).map((spec) => [
      spec.name,
      { shape: [...spec.shape], data: new Float32Array(tensorSize(spec.shape)) },
    ]),
  );
}

/** Adds `other` into `into` (sums of the same model), and returns `into`. */
export function addUpdateSums(into: UpdateSum, other: UpdateSum): UpdateSum {
  for (const [name, tensor] of Object.entries(into.sums)) {
    const add = other.sums[name]?.data;
    if (add?.length !== tensor.data.length) {
      throw new OmniPersonaError('INTERNAL', `Partial sums disagree on tensor "${name}"`);
    }
    for (let i = 0; i < add.length; i++) tensor.data[i] = (tensor.data[i] as number) + (add[i] as number);
  }
  into.weight += other.weight;
  into.count += other.count;
  return into;
}

/**
 * Where the server runs {@link checkUpdateBytes} and {@link sumUpdates}: on its own thread, or in a
 * pool of worker threads (`update-workers.ts`). Both may take over the bytes they are given (which
 * are then left empty): `check` its update's, `sum` its parts'.
 */
export interface UpdateProcessor {
  check(bytes: Uint8Array, check: UpdateCheck): Promise<UpdateCheckResult>;
  sum(config: ModelConfig, parts: readonly UpdatePart[]): Promise<UpdateSum>;
  close(): Promise<void>;
}

/** Updates the calling thread sums between pauses for its event loop. */
const PARTS_PER_PAUSE = 16;

/**
 * {@link UpdateProcessor} on the calling thread. A large sum pauses every few updates, so that a
 * server aggregating a round keeps answering.
 */
export const inlineUpdateProcessor: UpdateProcessor = {
  check: async (bytes, check) => checkUpdateBytes(bytes, check),
  async sum(config, parts) {
    let total = sumUpdates(config, parts.slice(0, PARTS_PER_PAUSE));
    for (let start = PARTS_PER_PAUSE; start < parts.length; start += PARTS_PER_PAUSE) {
      await new Promise((resolve) => setImmediate(resolve));
      total = addUpdateSums(total, sumUpdates(config, parts.slice(start, start + PARTS_PER_PAUSE)));
    }
    return total;
  },
  close: async () => {},
};
