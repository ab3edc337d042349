import { TRAIN_DEFAULTS } from '../ml/train-model.js';
import { SYNC_SERVER_DEFAULTS } from '../server/sync-server-options.js';

/** How much of the data a run uses and how long each mode trains. */
export interface EvalSettings {
  /** Users drawn (seeded) from the data set, for a quick run; every user when undefined. */
  users?: number;
  /** Embedding width: the server's default for a new model. */
  dim: number;
  /** One model trained on every user's training examples, as a data-centre baseline. */
  centralized: { epochs: number; learningRate: number };
  federated: {
    rounds: number;
    /** Users sampled (without replacement) into each round. */
    clientsPerRound: number;
    /** Each client's local training, from the round's global weights. */
    localEpochs: number;
    localLearningRate: number;
    /** The server clips each client's update to this L2 norm before averaging. */
    maxUpdateNorm: number;
  };
  /** Histories scored per pass when ranking. */
  scoreBatch: number;
}

/** What the device and the server do, taken from their defaults so that the evaluation follows them. */
const DEVICE_AND_SERVER = {
  dim: SYNC_SERVER_DEFAULTS.modelDim,
  localEpochs: TRAIN_DEFAULTS.epochs,
  localLearningRate: TRAIN_DEFAULTS.learningRate,
  maxUpdateNorm: SYNC_SERVER_DEFAULTS.maxUpdateNorm,
} as const;

/**
 * The full run: every user. Epochs and rounds are sized so that each mode takes minutes on a
 * 2-core machine with the WASM backend (one full-softmax step over 12,101 items takes ~0.13 s).
 */
export const FULL_SETTINGS: EvalSettings = {
  dim: DEVICE_AND_SERVER.dim,
  centralized: { epochs: 5, learningRate: TRAIN_DEFAULTS.learningRate },
  federated: {
    rounds: 20,
    clientsPerRound: 256,
    localEpochs: DEVICE_AND_SERVER.localEpochs,
    localLearningRate: DEVICE_AND_SERVER.localLearningRate,
    maxUpdateNorm: DEVICE_AND_SERVER.maxUpdateNorm,
  },
  scoreBatch: 256,
};

/** `--quick`: a subset of users and short training, so that every mode runs within 2 minutes in CI. */
export const QUICK_SETTINGS: EvalSettings = {
  ...FULL_SETTINGS,
  users: 2000,
  centralized: { ...FULL_SETTINGS.centralized, epochs: 2 },
  federated: { ...FULL_SETTINGS.federated, rounds: 4, clientsPerRound: 64 },
};

/** The settings a run picks from, by `--quick`. */
export interface EvalPresets {
  full: EvalSettings;
  quick: EvalSettings;
}

/** The presets `npm run eval` uses. */
export const EVAL_PRESETS: EvalPresets = { full: FULL_SETTINGS, quick: QUICK_SETTINGS };
