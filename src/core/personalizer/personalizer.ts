import type { Catalog, CatalogItem } from '../catalog.js';
import type { Rejection, RejectionCounts } from '../cleaning/index.js';
import type { ConsentCapSource, ConsentTier } from '../consent.js';
import type { OmniPersonaError } from '../errors.js';
import type { TrackedEvent, TrackInput } from '../event.js';
import type { Profile } from '../features/profile.js';
import type { BackendName, TrainReport } from '../model/model-runtime.js';
import type { Recommendation, RecommendRequest } from '../recommend-request.js';
import type { UpdateReceipt } from '../sync/protocol.js';
import type { ShopperSyncReport } from './shopper-sync.js';

/** What `status()` reports. */
export interface PersonalizerStatus {
  /** The tier in force: the one asked for, capped by the shopper's privacy signals. */
  consent: ConsentTier;
  /**
   * Set when Global Privacy Control (`'gpc'`) or Do-Not-Track (`'dnt'`) is on: consent is capped at
   * `on-device`, whatever the shop or `setConsent()` asks for.
   */
  consentCappedBy?: ConsentCapSource;
  /**
   * `'indexeddb'`, or `'memory'` when IndexedDB is missing, blocked, or failed after opening (events
   * then live as long as the page).
   */
  storage: string;
  /** The compute backend, once the model has loaded. */
  backend?: BackendName;
  /** Global model version the device builds on; 0 for a model built on the device. */
  modelVersion?: number;
  /** Events stored on the device, every shopper's; 0 under consent `none`, which does not open storage. */
  events: number;
  /** Events accepted but not yet written. */
  queued: number;
  /** Events not stored since the page loaded, by reason (see {@link Rejection}). */
  rejected: RejectionCounts;
  /** Why the bot filter judged this page automated; absent when it did not (or is off). */
  automation?: string[];
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
  /** The size of the update sent, in bytes (rank-4 factors in int8: a small share of the model). */
  updateBytes?: number;
  /** Why nothing was exchanged, when nothing was. */
  skipped?: 'no-endpoint' | 'consent';
  /**
   * The signed-in shopper's events exchanged with their other channels; present when consent is
   * `synced` and a shopper is signed in.
   */
  shopper?: ShopperSyncReport;
}

/** Events a host can listen to with `on()`. */
export interface PersonalizerEvents extends Record<string, unknown> {
  tracked: TrackedEvent;
  trained: TrainReport;
  synced: SyncReport;
  /** Background failures (storage, training, sync). Never thrown into the page. */
  error: OmniPersonaError;
  /** An event was not stored: invalid, a duplicate, from automation, or not believable. */
  rejected: Rejection;
  /**
   * Recommendations may have changed: the model trained, a new global model arrived, events from
   * the shopper's other channels arrived (`synced`), the device forgot the shopper, or another
   * shopper signed in or out.
   */
  changed: { reason: 'trained' | 'pulled' | 'synced' | 'forgotten' | 'identity' };
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
   * Records an event. Validates and cleans it, and queues it in memory; queued events are written
   * in batches (and at once when the page is hidden). Returns undefined when the event is not
   * recorded: consent `none`, automation, or an anomaly (see `status().rejected`). Repeats of
   * recorded events are dropped when the batch is written.
   * @throws OmniPersonaError `INVALID_EVENT` when the event is malformed (nothing is stored).
   */
  track(event: TrackInput): TrackedEvent | undefined;
  /**
   * Signs a shopper in: their anonymous history on this device becomes theirs, and later events
   * carry `userId`. `undefined` signs out: a new anonymous id and session start, the personal model
   * goes back to the shared one, and the signed-out user's history stays stored but no longer
   * shapes what the device shows (until they sign in again). Calling it with `undefined` while no
   * one is signed in does nothing, so `identify(currentUser?.id)` on every page is safe.
   * Takes effect in call order with `track()`.
   *
   * `token` is the shopper token the shop's backend signed for this user (`signShopperToken` in
   * `omnipersona/server`): with consent `synced`, `sync()` uses it to exchange the shopper's events
   * with their other channels. It is kept in memory only; the `shopperToken` option can supply one
   * instead, and a fresh one when it expires.
   * @throws OmniPersonaError `INVALID_REQUEST` when `userId` is not a non-empty string of at most 200
   * characters, or `token` is not a non-empty string.
   * @example
   * ```ts
   * await op.identify('user-42', { token }); // after sign-in
   * await op.identify(undefined); // after sign-out
   * ```
   */
  identify(userId: string | undefined, options?: { token?: string }): Promise<void>;
  recommend(request: RecommendRequest): Promise<Recommendation[]>;
  /**
   * Tells the SDK that these items were shown to the shopper as recommendations (widgets do it
   * themselves), so that `recommend({ maxImpressions })` leaves out what they keep ignoring.
   */
  shown(itemIds: readonly string[]): Promise<void>;
  profile(): Promise<Profile>;
  /** Trains now on the stored events, instead of waiting for an idle moment. */
  train(): Promise<TrainReport | undefined>;
  /** Pulls a newer global model and pushes this device's update, as consent allows. */
  sync(): Promise<SyncReport>;
  /**
   * Corrects the profile: deletes the shopper's events about items of the top-level category
   * `category` (a view, a cart, a purchase or a rating naming one), so that it no longer shapes
   * their profile and recommendations; the model retrains without them. Under `synced`, for a
   * signed-in shopper, the server's log loses them too, and so do their other channels at their
   * next sync (a removal the server cannot take now is sent at the next sync). Resolves with the
   * number of events deleted from this device.
   * @throws OmniPersonaError `INVALID_REQUEST` when `category` is not a non-empty string.
   */
  forgetInterest(category: string): Promise<number>;
  /**
   * Deletes everything this device holds about the shopper: queued and stored events, identity,
   * personal model, and the IndexedDB database itself. The SDK keeps working, as a new shopper.
   */
  forget(): Promise<void>;
  status(): Promise<PersonalizerStatus>;
  /**
   * Changes what the shopper allows. Capped at `on-device` while GPC or DNT is on
   * (`status().consentCappedBy`). `none` also forgets everything stored.
   */
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
