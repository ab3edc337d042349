import { readFile } from 'node:fs/promises';
import { OmniPersonaError } from '../core/errors.js';
import { decodeTensors } from '../core/sync/tensor-codec.js';
import { RecommenderModel } from '../ml/recommender-model.js';
import type { ModelSetup } from './model-setup.js';

/**
 * A model file `--save-models` wrote, for `setup`'s data and width; `expected` holds metadata the
 * file must carry (what identifies the run that trained it). `flag` names the option in errors.
 * @throws OmniPersonaError `INVALID_OPTIONS` when the file is missing, unreadable, from another run,
 * or does not fit the model.
 */
export async function openSavedModel(
  path: string,
  setup: ModelSetup,
  flag: string,
  expected: Record<string, string> = {},
): Promise<RecommenderModel> {
  const refused = (error: unknown) =>
    new OmniPersonaError('INVALID_OPTIONS', `${flag}: ${path}: ${(error as Error).message}`);
  let saved: ReturnType<typeof decodeTensors>;
  try {
    saved = decodeTensors(new Uint8Array(await readFile(path)), { maxBytes: Number.MAX_SAFE_INTEGER });
  } catch (error) {
    throw refused(error);
  }
  for (const [key, value] of Object.entries(expected)) {
    if (saved.metadata[key] !== value) {
      throw new OmniPersonaError(
        'INVALID_OPTIONS',
        `${flag}: ${path} was trained with ${key} ${saved.metadata[key] ?? '(none)'}, this run has ${value}`,
      );
    }
  }
  try {
    return RecommenderModel.create(setup.config, saved.tensors, setup.features);
  } catch (error) {
    throw refused(error);
  }
}
