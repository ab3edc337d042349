import * as v from 'valibot';
import { OmniPersonaError } from '../core/errors.js';
import { checkWeights, type ModelConfig, modelSpec } from '../core/model/model-spec.js';
import type { WeightSet } from '../core/model/weights.js';
import type { ScaledTensor } from '../core/sync/factored-norm.js';
import { factorPairs } from '../core/sync/low-rank.js';
import { UPDATE_KINDS, UPDATE_METADATA, type UpdateKind } from '../core/sync/protocol.js';
import { readTensors, type StoredTensor, tensorValues } from '../core/sync/tensor-codec.js';
import { formatIssues } from './format-issues.js';

/** The most training examples one update may claim: its weight in the average is capped by it. */
export const MAX_UPDATE_EXAMPLES = 10_000;

const Count = (min: number, max: number) =>
  v.pipe(v.string(), v.digits(), v.maxLength(9), v.transform(Number), v.minValue(min), v.maxValue(max));

const UpdateMetadataSchema = v.looseObject({
  [UPDATE_METADATA.baseVersion]: Count(1, 2 ** 31 - 1),
  [UPDATE_METADATA.examples]: Count(1, MAX_UPDATE_EXAMPLES),
  [UPDATE_METADATA.kind]: v.picklist(UPDATE_KINDS),
});

/** A decoded, not yet shape-checked, `POST /v1/updates` body. */
export interface UpdatePayload {
  baseVersion: number;
  examples: number;
  kind: UpdateKind;
  /**
   * Its tensors where they lie in the payload, not converted: dense for `delta`; with matrices as
   * factors for `low-rank`.
   */
  tensors: Record<string, StoredTensor>;
}

/** What an update's header says about it. */
export type UpdateHeader = Pick<UpdatePayload, 'baseVersion' | 'examples' | 'kind'>;

/** The most tensors an update may hold: a model's, twice over when every matrix is factored. */
const MAX_UPDATE_TENSORS = 48;

/**
 * Reads an update payload's header and validates its metadata. Values are not converted: an int8
 * update is checked and measured on its integers.
 * @throws OmniPersonaError `INVALID_PAYLOAD` for a malformed payload or metadata.
 */
export function parseUpdatePayload(bytes: Uint8Array, maxBytes: number): UpdatePayload {
  const { tensors, metadata } = readTensors(bytes, { maxBytes, maxTensors: MAX_UPDATE_TENSORS });
  return { ...updateHeader(metadata), tensors };
}

/** The values of stored tensors, as float32. */
export function storedValues(tensors: Record<string, StoredTensor>): WeightSet {
  const values: WeightSet = {};
  for (const [name, tensor] of Object.entries(tensors))
    values[name] = { shape: tensor.shape, data: tensorValues(tensor) };
  return values;
}

/** Stored tensors as `factoredNorm` reads them: int8 ones as their integers and scale, others as float32. */
export function scaledTensors(tensors: Record<string, StoredTensor>): Record<string, ScaledTensor> {
  const scaled: Record<string, ScaledTensor> = {};
  for (const [name, tensor] of Object.entries(tensors)) {
    const { shape, dtype, scale, bytes } = tensor;
    scaled[name] =
      dtype === 'I8'
        ? { shape, scale, data: new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length) }
        : { shape, data: tensorValues(tensor) };
  }
  return scaled;
}

function updateHeader(metadata: Record<string, string>): UpdateHeader {
  const result = v.safeParse(UpdateMetadataSchema, metadata);
  if (!result.success) {
    throw new OmniPersonaError('INVALID_PAYLOAD', `Invalid update metadata: ${formatIssues(result.issues)}`);
  }
  return {
    baseVersion: result.output[UPDATE_METADATA.baseVersion],
    examples: result.output[UPDATE_METADATA.examples],
    kind: result.output[UPDATE_METADATA.kind],
  };
}

/**
 * Checks that an update has exactly the tensors of `config` with finite values: each whole with
 * its shape or, in a `low-rank` update, as factors that multiply out to it. Returns a problem, or undefined.
 */
export function checkUpdate(update: Pick<UpdatePayload, 'kind' | 'tensors'>, config: ModelConfig): string | undefined {
  if (update.kind === 'delta') return checkWeights(storedValues(update.tensors), config);
  let pairs: ReturnType<typeof factorPairs<StoredTensor>>;
  try {
    pairs = factorPairs(update.tensors);
  } catch (error) {
    return (error as Error).message;
  }
  const specs = modelSpec(config);
  if (pairs.size !== specs.length) return `expected ${specs.length} tensors, received ${pairs.size}`;
  for (const spec of specs) {
    const parts = pairs.get(spec.name);
    if (!parts) return `tensor "${spec.name}" is missing`;
    const shape = 'whole' in parts ? parts.whole.shape : [parts.u.shape[0], parts.v.shape[1]];
    if (shape.join('x') !== spec.shape.join('x') || ('u' in parts && spec.shape.length !== 2)) {
      return `tensor "${spec.name}" should have shape [${spec.shape}], received [${shape}]`;
    }
    const tensors = 'whole' in parts ? [parts.whole] : [parts.u, parts.v];
    if (!tensors.every(finiteValues)) {
      return `tensor "${spec.name}" holds a non-finite value`;
    }
  }
  return undefined;
}

/**
 * Whether every value a stored tensor stands for is finite in float32. An int8 tensor's are when
 * its scale keeps the widest integer, −128, within float32's range: no value need be read.
 */
function finiteValues(tensor: StoredTensor): boolean {
  if (tensor.dtype === 'I8') return Number.isFinite(Math.fround(128 * tensor.scale));
  const data = tensorValues(tensor);
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return false;
  return true;
}
