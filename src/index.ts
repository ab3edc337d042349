/**
 * OmniPersona for single-page apps and bundlers.
 *
 * Importing this module has no side effects and touches no browser global, so it is safe during
 * server-side rendering. TF.js and the model load lazily, as a separate chunk, on first use.
 *
 * @example
 * ```ts
 * import { createPersonalizer } from 'omnipersona';
 *
 * const op = createPersonalizer({ endpoint: 'https://sync.example.com', channel: 'app' });
 * op.track({ type: 'view', item: { id: 'sku-1', category: 'Shoes > Running', price: 89 } });
 * const recs = await op.recommend({ kind: 'for-you', count: 8 });
 * ```
 */
import { type BrowserPersonalizerOptions, createBrowserPersonalizer } from './browser/create-browser-personalizer.js';
import type { Personalizer } from './core/personalizer/personalizer.js';

export type {
  CaptureOptions,
  CartCaptureOptions,
  ClickCaptureOptions,
  DataLayerCaptureOptions,
  DwellCaptureOptions,
  PageCaptureOptions,
  ProductCaptureOptions,
  ProductUrlRule,
  PurchaseCaptureOptions,
  SearchCaptureOptions,
  SelectorRef,
} from './browser/capture/index.js';
export type { BrowserPersonalizerOptions as PersonalizerOptions } from './browser/create-browser-personalizer.js';
export {
  type BackendName,
  type BackendPreference,
  type CatalogItem,
  type Channel,
  type CleaningOptions,
  CONSENT_TIERS,
  type ConsentCapSource,
  type ConsentTier,
  type EventType,
  type ItemInput,
  OmniPersonaError,
  type OmniPersonaErrorCode,
  type Personalizer,
  type PersonalizerEvents,
  type PersonalizerStatus,
  type Profile,
  type Recommendation,
  type RecommendationKind,
  type RecommendRequest,
  type Rejection,
  type RejectionCounts,
  type RejectionReason,
  type RetentionOptions,
  type SyncReport,
  type TrackedEvent,
  type TrackInput,
  type TrainReport,
} from './core/index.js';

/**
 * Creates the shopper's personalizer on this device.
 * @throws OmniPersonaError `INVALID_OPTIONS` when an option is malformed.
 */
export function createPersonalizer(options: BrowserPersonalizerOptions = {}): Personalizer {
  return createBrowserPersonalizer(options, () => import('./ml/index.js'));
}
