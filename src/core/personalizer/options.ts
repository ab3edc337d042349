import type { ConsentTier } from '../consent.js';
import { describeValue, OmniPersonaError } from '../errors.js';
import { CHANNEL_PATTERN, type Channel } from '../event.js';
import type { BackendPreference } from '../model/model-runtime.js';
import type { WireDtype } from '../sync/tensor-codec.js';

/** What the device rejects before storing, beyond the event schema. */
export interface CleaningOptions {
  /** A view of an item viewed less than this many ms before is a duplicate. `0` keeps every view. @default 5000 */
  repeatViewMs?: number;
  /** Events per second above which the SDK refuses events until the flood stops. @default 30 */
  maxEventsPerSecond?: number;
  /** How far ahead of the device clock an event's `time` may be, in ms. @default 300000 (5 minutes) */
  maxClockSkewMs?: number;
  /** Highest believable unit price, in the shop's currency. @default 1000000 */
  maxPrice?: number;
  /** Highest believable quantity of one cart or order line. @default 1000 */
  maxQuantity?: number;
}

/** How long, and how many, events stay on the device. The oldest go first. */
export interface RetentionOptions {
  /** Events older than this many days are deleted. @default 90 */
  maxAgeDays?: number;
  /** At most this many events are kept. @default 5000 */
  maxEvents?: number;
}

/** Options of `createPersonalizer()`. Every field is optional; defaults are listed with each. */
export interface PersonalizerOptions {
  /** Namespaces local storage, so two shops on one origin keep apart. @default 'default' */
  site?: string;
  /** URL of the shop's `omnipersona-server`. Without it the SDK works fully offline. */
  endpoint?: string;
  /** The channel this device is. @default 'web' */
  channel?: Channel;
  /**
   * Gets a shopper token for the signed-in `userId` from the shop's backend, for the cross-channel
   * sync of consent `synced` (see `identify()`); called when there is none yet and when the server
   * refused the last one (expired). Return undefined when the shopper has none.
   */
  shopperToken?: (userId: string) => string | undefined | Promise<string | undefined>;
  /**
   * What the shopper allows. Global Privacy Control and Do-Not-Track cap it at `on-device`.
   * @default 'on-device'
   */
  consent?: ConsentTier;
  /** Compute backend for the model. @default 'auto' */
  backend?: BackendPreference;
  /** Train after this many new product events, when the page is idle. `0` turns automatic training off. @default 3 */
  trainAfterEvents?: number;
  /** Longest a training run may take, in milliseconds. @default 2000 */
  trainingBudgetMs?: number;
  /** Push a model update after each training run when consent allows it. @default true */
  syncAfterTraining?: boolean;
  /** Embedding width of a model built on the device when no server model or prior is available. @default 16 */
  offlineModelDim?: number;
  /**
   * URL of a prior file served with the shop's own static assets (absolute, or relative to the
   * page), written by `omnipersona-server export-prior`: the global model, its config and catalog at
   * the version it was exported. A device with no stored model starts from it when the sync server
   * cannot be reached or no `endpoint` is set, instead of from a model built on the device; a prior
   * that cannot be fetched or read is reported through `on('error')` and the device builds its own.
   * Fetched like the server's global model: under every consent tier but `none`, without cookies, and
   * carrying nothing about the shopper. Once the server answers, `sync()` replaces it with the
   * server's current model; no update is ever computed against the prior.
   * @example
   * ```ts
   * createPersonalizer({ endpoint: 'https://sync.my-shop.example', prior: '/omnipersona-prior.bin' });
   * ```
   */
  prior?: string;
  /**
   * How the global model's weights are downloaded: `F32` as published, `F16` at half the bytes, or
   * `I8` (one byte per weight and a scale per tensor) at a quarter. The accuracy each costs is
   * measured by `npm run eval`. Training on the device always runs in float32.
   * @default 'F16'
   */
  weightsDtype?: WireDtype;
  /**
   * Store nothing from pages driven by automation (WebDriver, headless browsers, crawlers), so tests,
   * monitors and scrapers do not teach the model. The script tag's `data-bot-filter="false"` turns it off.
   * @default true
   */
  botFilter?: boolean;
  /** Duplicate and sanity rules applied before events are stored. */
  cleaning?: CleaningOptions;
  /** How long, and how many, events stay on the device. */
  retention?: RetentionOptions;
}

export type ResolvedOptions = Required<
  Omit<PersonalizerOptions, 'endpoint' | 'prior' | 'shopperToken' | 'cleaning' | 'retention'>
> & {
  endpoint?: string;
  prior?: string;
  shopperToken?: PersonalizerOptions['shopperToken'];
  cleaning: Required<CleaningOptions>;
  retention: Required<RetentionOptions>;
};

/** Every default, in one place. */
export const DEFAULT_OPTIONS: Omit<ResolvedOptions, 'endpoint' | 'prior'> = {
  site: 'default',
  channel: 'web',
  consent: 'on-device',
  backend: 'auto',
  trainAfterEvents: 3,
  trainingBudgetMs: 2000,
  syncAfterTraining: true,
  offlineModelDim: 16,
  weightsDtype: 'F16',
  botFilter: true,
  cleaning: {
    repeatViewMs: 5000,
    maxEventsPerSecond: 30,
    maxClockSkewMs: 5 * 60_000,
    maxPrice: 1_000_000,
    maxQuantity: 1000,
  },
  retention: { maxAgeDays: 90, maxEvents: 5000 },
};

/** The smallest value each numeric cleaning and retention option accepts. */
const MINIMUM: Record<keyof CleaningOptions | keyof RetentionOptions, number> = {
  repeatViewMs: 0,
  maxEventsPerSecond: 1,
  maxClockSkewMs: 0,
  maxPrice: 0,
  maxQuantity: 1,
  maxAgeDays: Number.MIN_VALUE,
  maxEvents: 1,
};

/**
 * Fills in the defaults.
 * @throws OmniPersonaError `INVALID_OPTIONS` when a cleaning or retention bound is not a number in range,
 * `weightsDtype` is not a wire dtype, `channel` is not a channel name, or `prior` is not a URL string.
 */
export function resolveOptions(options: PersonalizerOptions): ResolvedOptions {
  const resolved = {
    ...DEFAULT_OPTIONS,
    ...defined(options),
    cleaning: { ...DEFAULT_OPTIONS.cleaning, ...defined(options.cleaning ?? {}) },
    retention: { ...DEFAULT_OPTIONS.retention, ...defined(options.retention ?? {}) },
  } as ResolvedOptions;
  if (!(['F32', 'F16', 'I8'] as const).includes(resolved.weightsDtype)) {
    throw new OmniPersonaError(
      'INVALID_OPTIONS',
      `weightsDtype must be 'F32', 'F16' or 'I8', received ${describeValue(resolved.weightsDtype)}`,
    );
  }
  if (typeof resolved.channel !== 'string' || !CHANNEL_PATTERN.test(resolved.channel)) {
    throw new OmniPersonaError(
      'INVALID_OPTIONS',
      `channel must be a lowercase name such as 'web', 'app' or 'kiosk-3', received ${describeValue(resolved.channel)}`,
    );
  }
  if (resolved.shopperToken !== undefined && typeof resolved.shopperToken !== 'function') {
    throw new OmniPersonaError(
      'INVALID_OPTIONS',
      `shopperToken must be a function of the user id, received ${describeValue(resolved.shopperToken)}`,
    );
  }
  if (resolved.prior !== undefined && (typeof resolved.prior !== 'string' || resolved.prior.trim() === '')) {
    throw new OmniPersonaError(
      'INVALID_OPTIONS',
      `prior must be the URL of a prior file, received ${describeValue(resolved.prior)}`,
    );
  }
  for (const [group, values] of [
    ['cleaning', resolved.cleaning],
    ['retention', resolved.retention],
  ] as const) {
    for (const [name, value] of Object.entries(values)) {
      const minimum = MINIMUM[name as keyof typeof MINIMUM];
      if (typeof value !== 'number' || !Number.isFinite(value) || value < minimum) {
        throw new OmniPersonaError(
          'INVALID_OPTIONS',
          `${group}.${name} must be a finite number of at least ${minimum === Number.MIN_VALUE ? 'more than 0' : minimum}, received ${describeValue(value)}`,
        );
      }
    }
  }
  return resolved;
}

function defined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}
