import type { Catalog, CatalogItem } from '../catalog.js';
import type { ConsentTier } from '../consent.js';
import type { OmniPersonaError } from '../errors.js';
import type { TrackedEvent, TrackInput } from '../event.js';
import type { Profile } from '../features/profile.js';
import type { BackendName, TrainReport } from '../model/model-runtime.js';
import type { Recommendation, RecommendRequest } from '../recommend-request.js';
import type { UpdateReceipt } from '../sync/protocol.js';

/** What `status()` reports. */
export interface PersonalizerStatus {
  consent: ConsentTier;
  /** `'indexeddb'`, or `'memory'` when IndexedDB is missing or blocked. */
  storage: string;
  /** The compute backend, once the model has loaded. */
  backend?: BackendName;
  /** Global model version the device builds on; 0 for a model built on the device. */
  modelVersion?: number;
  /** Events stored on the device. */
  events: number;
  /** Events accepted but not yet written. */
  queued: number;
  catalogSize: number;
  training: boolean;
  lastTraining?: TrainReport;
  lastSync?: SyncReport;
}

/** What one `sync()` did. */
export interface SyncReport {
  at: number;
  /** A newer global model was downloaded. */
  pulled: boolean;
  modelVersion?: number;
  /** An update was sent, and what the server said. */
  pushed: boolean;
  receipt?: UpdateReceipt;
  /** Why nothing was exchanged, when nothing was. */
  skipped?: 'no-endpoint' | 'consent';
}

/** Events a host can listen to with `on()`. */
export interface PersonalizerEvents extends Record<string, unknown> {
  tracked: TrackedEvent;
  trained: TrainReport;
  synced: SyncReport;
  /** Background failures (storage, training, sync). Never thrown into the page. */
  error: OmniPersonaError;
  /** Recommendations may have changed: the model trained or a new global model arrived. */
  changed: { reason: 'trained' | 'pulled' | 'forgotten' };
}

/**
 * One shopper's personalizer on one device.
 *
 * @example
 * ```ts
 * const op = createPersonalizer({ endpoint: 'https://sync.example.com', consent: 'federated' });
 * op.track({ type: 'view', item: { id: 'sku-1', name: 'Trail shoe', category: 'Shoes > Running', price: 89 } });
 * const recs = await op.recommend({ kind: 'for-you', count: 8 });
 * ```
 */
export interface Personalizer {
  /**
   * Records an event. Validates it and queues it in memory; it is written to storage in batches.
   * @throws OmniPersonaError `INVALID_EVENT` when the event is malformed (nothing is stored).
   */
  track(event: TrackInput): TrackedEvent | undefined;
  /** Attaches the anonymous history to a signed-in shopper. `undefined` signs out. */
  identify(userId: string | undefined, options?: { token?: string }): Promise<void>;
  recommend(request: RecommendRequest): Promise<Recommendation[]>;
  profile(): Promise<Profile>;
  /** Trains now on the stored events, instead of waiting for an idle moment. */
  train(): Promise<TrainReport | undefined>;
  /** Pulls a newer global model and pushes this device's update, as consent allows. */
  sync(): Promise<SyncReport>;
  /** Deletes everything this device holds about the shopper. */
  forget(): Promise<void>;
  status(): Promise<PersonalizerStatus>;
  setConsent(tier: ConsentTier): Promise<void>;
  on<Name extends keyof PersonalizerEvents>(
    name: Name,
    listener: (payload: PersonalizerEvents[Name]) => void,
  ): () => void;
  /** The items the device knows: the server's catalog plus items seen on pages. */
  readonly catalog: Pick<Catalog, 'size' | 'get' | 'items'>;
  /** Writes queued events now. */
  flush(): Promise<void>;
}

export type { CatalogItem };
