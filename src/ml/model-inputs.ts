import * as tf from '@tensorflow/tfjs-core';
import { OmniPersonaError } from '../core/errors.js';
import type { HistoryInput, ItemFeatures, TrainingExample } from '../core/model/model-runtime.js';
import { HISTORY_LENGTH, type ModelConfig, PRICE_BANDS, PROFILE_INPUTS, SIGNALS } from '../core/model/model-spec.js';
import type { SequenceBatch } from './recommender-maths.js';

/*
 * What the recommender reads, checked and turned into tensors: a model's config and item features,
 * shoppers' histories and training examples.
 */

/** Neutral profile features: every value unknown. */
const UNKNOWN_PROFILE = 0.5;

/**
 * The lengths a batch of histories takes, the last {@link HISTORY_LENGTH}. A few, not every length
 * from 1 to 50: the GPU backends compile their shaders for each shape they meet, and a shopper's
 * history grows by one step at a time.
 */
export const BATCH_LENGTHS = [8, 16, 32, HISTORY_LENGTH] as const;

/**
 * Histories as tensors: right-aligned steps, oldest first, padding masked, as long as the shortest
 * of {@link BATCH_LENGTHS} that holds the longest history: padding the model would only mask out is
 * mostly not computed. The maths reads the same result at any length.
 */
export function sequenceBatch(histories: readonly HistoryInput[]): SequenceBatch {
  const size = histories.length;
  const longest = histories.reduce((most, history) => Math.max(most, history.items.length), 0);
  const steps = BATCH_LENGTHS.find((length) => length >= longest) ?? HISTORY_LENGTH;
  const items = new Int32Array(size * steps);
  const signals = new Int32Array(size * steps);
  const mask = new Float32Array(size * steps);
  const profiles = new Float32Array(size * PROFILE_INPUTS).fill(UNKNOWN_PROFILE);
  histories.forEach((history, row) => {
    const length = Math.min(history.items.length, steps);
    const from = history.items.length - length;
    const offset = row * steps + steps - length;
    items.set(history.items.subarray(from), offset);
    signals.set(history.signals.subarray(from), offset);
    mask.fill(1, offset, offset + length);
    if (history.profile) profiles.set(history.profile, row * PROFILE_INPUTS);
  });
  return {
    items: tf.tensor1d(items, 'int32'),
    signals: tf.tensor1d(signals, 'int32'),
    mask: tf.tensor2d(mask, [size, steps]),
    profiles: tf.tensor2d(profiles, [size, PROFILE_INPUTS]),
  };
}

export function checkConfig(config: ModelConfig): string | undefined {
  const bad = (['items', 'categories', 'brands', 'dim'] as const).find(
    (key) => !Number.isSafeInteger(config[key]) || config[key] < 1,
  );
  return bad && `config.${bad} should be a positive integer, received ${config[bad]}`;
}

export function checkFeatures(features: ItemFeatures, config: ModelConfig): string | undefined {
  const tables = [
    ['categories', features.categories, config.categories],
    ['brands', features.brands, config.brands],
    ['priceBands', features.priceBands, PRICE_BANDS],
  ] as const;
  for (const [name, rows, limit] of tables) {
    if (rows.length !== config.items) return `expected ${config.items} item ${name}, received ${rows.length}`;
    const bad = rows.findIndex((row) => row < 0 || row >= limit);
    if (bad >= 0) return `item ${bad} has ${name} row ${rows[bad]}, not in [0, ${limit})`;
  }
  return undefined;
}

export function checkHistory(history: HistoryInput, items: number): void {
  if (history.items.length !== history.signals.length) {
    throw new OmniPersonaError(
      'INVALID_PAYLOAD',
      `History has ${history.items.length} items but ${history.signals.length} signals`,
    );
  }
  const item = history.items.findIndex((row) => row < 0 || row >= items);
  if (item >= 0) {
    throw new OmniPersonaError('INVALID_PAYLOAD', `History item ${history.items[item]} is not a row in [0, ${items})`);
  }
  if (!history.signals.every((signal) => Number.isInteger(signal) && signal >= 0 && signal < SIGNALS)) {
    throw new OmniPersonaError('INVALID_PAYLOAD', `History signals should be rows in [0, ${SIGNALS})`);
  }
  const profile = history.profile;
  if (profile && (profile.length !== PROFILE_INPUTS || !profile.every(Number.isFinite))) {
    throw new OmniPersonaError('INVALID_PAYLOAD', `A profile should hold ${PROFILE_INPUTS} finite values`);
  }
}

/** @throws OmniPersonaError `INVALID_PAYLOAD` when an example does not fit a model of `items` rows. */
export function checkExample(example: TrainingExample, items: number): void {
  checkHistory(example.history, items);
  if (!Number.isInteger(example.target) || example.target < 0 || example.target >= items) {
    throw new OmniPersonaError('INVALID_PAYLOAD', `Training target ${example.target} is not a row in [0, ${items})`);
  }
}
