import * as tf from '@tensorflow/tfjs-core';
import type { HistoryInput } from '../core/model/model-runtime.js';
import type { RecommenderModel, Teacher } from '../ml/recommender-model.js';
import type { ModelSetup } from './model-setup.js';
import { openSavedModel } from './saved-model.js';

/** A teacher made of one or more saved models, to dispose of when training is done. */
export interface SavedTeacher extends Teacher {
  dispose(): void;
}

/**
 * The teacher of `--teacher`: the saved model in each of `files` (`--save-models`), for `setup`'s
 * data and width. Several predict the mean of their distributions: an ensemble's prediction.
 * @throws OmniPersonaError `INVALID_OPTIONS` when a file is missing, unreadable or does not fit.
 */
export async function openSavedTeacher(files: readonly string[], setup: ModelSetup): Promise<SavedTeacher> {
  const models: RecommenderModel[] = [];
  try {
    for (const file of files) models.push(await openSavedModel(file, setup, '--teacher'));
  } catch (error) {
    for (const model of models) model.dispose();
    throw error;
  }
  return {
    config: setup.config,
    predictions: (histories: readonly HistoryInput[]) =>
      tf.tidy(() => tf.div(tf.addN(models.map((model) => model.predictions(histories))), models.length)),
    dispose: () => {
      for (const model of models) model.dispose();
    },
  };
}
