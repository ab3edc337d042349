import * as v from 'valibot';
import { OmniPersonaError } from '../core/errors.js';
import type { WeightSet } from '../core/model/weights.js';
import { UPDATE_METADATA } from '../core/sync/protocol.js';
import { decodeTensors } from '../core/sync/tensor-codec.js';
import { formatIssues } from './format-issues.js';

/** The most training examples one update may claim: its weight in the average is capped by it. */
export const MAX_UPDATE_EXAMPLES = 10_000;

const Count = (min: number, max: number) =>
  v.pipe(v.string(), v.digits(), v.maxLength(9), v.transform(Number), v.minValue(min), v.maxValue(max));

const UpdateMetadataSchema = v.looseObject({
  [UPDATE_METADATA.baseVersion]: Count(1, 2 ** 31 - 1),
  [UPDATE_METADATA.examples]: Count(1, MAX_UPDATE_EXAMPLES),
  [UPDATE_METADATA.kind]: v.literal('delta'),
});

/** A decoded, not yet shape-checked, `POST /v1/updates` body. */
export interface UpdatePayload {
  baseVersion: number;
  examples: number;
  delta: WeightSet;
}

/**
 * Decodes an update payload and validates its metadata.
 * @throws OmniPersonaError `INVALID_PAYLOAD` for a malformed payload or metadata.
 */
export function parseUpdatePayload(bytes: Uint8Array, maxBytes: number): UpdatePayload {
  const { tensors, metadata } = decodeTensors(bytes, { maxBytes, maxTensors: 16 });
  const result = v.safeParse(UpdateMetadataSchema, metadata);
  if (!result.success) {
    throw new OmniPersonaError('INVALID_PAYLOAD', `Invalid update metadata: ${formatIssues(result.issues)}`);
  }
  return {
    baseVersion: result.output[UPDATE_METADATA.baseVersion],
    examples: result.output[UPDATE_METADATA.examples],
    delta: tensors,
  };
}
