import type { ConsentTier } from '../consent.js';
import type { Channel } from '../event.js';
import type { BackendPreference } from '../model/model-runtime.js';

/** Options of `createPersonalizer()`. Every field is optional; defaults are listed with each. */
export interface PersonalizerOptions {
  /** Namespaces local storage, so two shops on one origin keep apart. @default 'default' */
  site?: string;
  /** URL of the shop's `omnipersona-server`. Without it the SDK works fully offline. */
  endpoint?: string;
  /** The channel this device is. @default 'web' */
  channel?: Channel;
  /** What the shopper allows. @default 'on-device' */
  consent?: ConsentTier;
  /** Compute backend for the model. @default 'auto' */
  backend?: BackendPreference;
  /** Train after this many new product events, when the page is idle. `0` turns automatic training off. @default 3 */
  trainAfterEvents?: number;
  /** Longest a training run may take, in milliseconds. @default 2000 */
  trainingBudgetMs?: number;
  /** Push a model update after each training run when consent allows it. @default true */
  syncAfterTraining?: boolean;
  /** Embedding width of a model built on the device when no server model is available. @default 16 */
  offlineModelDim?: number;
}

export type ResolvedOptions = Required<Omit<PersonalizerOptions, 'endpoint'>> & { endpoint?: string };

export const DEFAULT_OPTIONS: Omit<ResolvedOptions, 'endpoint'> = {
  site: 'default',
  channel: 'web',
  consent: 'on-device',
  backend: 'auto',
  trainAfterEvents: 3,
  trainingBudgetMs: 2000,
  syncAfterTraining: true,
  offlineModelDim: 16,
};

export function resolveOptions(options: PersonalizerOptions): ResolvedOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  return { ...DEFAULT_OPTIONS, ...defined } as ResolvedOptions;
}
