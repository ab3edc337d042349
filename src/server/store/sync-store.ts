import type { CatalogItem } from '../../core/catalog.js';
import type { ModelConfig } from '../../core/model/model-spec.js';
import type { WeightSet } from '../../core/model/weights.js';
import type {
  CoVisitRows,
  ShopperEventsPage,
  ShopperEventsReceipt,
  ShopperRemovalsReceipt,
  SyncedEvent,
} from '../../core/sync/protocol.js';
import type { DeltaAverage } from '../federated-average.js';
import type { ServerAdamState } from '../server-optimizer.js';
import type { UpdateSum } from '../update-processing.js';

/** One published catalog. Versions start at 1 and only grow. */
export interface CatalogRecord {
  version: number;
  items: CatalogItem[];
  /** Which items shoppers went on to after each one, by index into `items`; absent when none were published. */
  coVisits?: CoVisitRows;
  createdAt: Date;
}

/** Federated rounds aggregated into a model's history, by whether noise was added (DP-FedAvg). */
export interface RoundCounts {
  noisy: number;
  plain: number;
  /**
   * μ² of the noisy rounds' composition, Σ 1/zᵢ² over their noise multipliers: they are together
   * μ-Gaussian differentially private (`server/privacy-accountant.ts`).
   */
  privacyLoss: number;
}

/** One published global model, without its weights. Versions start at 1 and only grow. */
export interface ModelRecord {
  version: number;
  config: ModelConfig;
  /** The catalog version whose item order the rows follow; 0 when there was no catalog. */
  catalogVersion: number;
  /** Updates aggregated into the model's history up to this version. */
  updates: number;
  /** Rounds aggregated into the model's history up to this version. */
  rounds: RoundCounts;
  /** SHA-256 of the stored F32 weights, hex: a strong validator for caches. */
  digest: string;
  createdAt: Date;
}

/** A device's contribution: the difference from its base model, weighted by its training examples. */
export interface PendingUpdate {
  baseVersion: number;
  examples: number;
  /**
   * The update as the store keeps it (`encodeTensors`, dense or factored): the request's own bytes
   * when the server did not need to change the update (see `checkUpdateBytes`).
   */
  encoded: Uint8Array;
  /** Versions published between its base and the round it joined; 0 for a current update. */
  staleness?: number;
}

/** A model the store should append as the next version. */
export interface ModelDraft {
  config: ModelConfig;
  weights: WeightSet;
  updates: number;
  rounds: RoundCounts;
}

/** What a write sees, read under the store's write lock. */
export interface StoreState {
  catalog: CatalogRecord | undefined;
  model: ModelRecord | undefined;
  /** Weights of the current model; loaded only when asked for. */
  weights(): Promise<WeightSet | undefined>;
}

/** What a write appends; the store numbers the versions. Absent parts stay as they are. */
export interface StoreChange {
  catalog?: CatalogItem[];
  /**
   * The co-visits of the new catalog version, by index into `catalog`; only with `catalog`. A
   * catalog written without them has none: a write that keeps them passes them on.
   */
  coVisits?: CoVisitRows;
  model?: ModelDraft;
}

/** When and how pending updates become the next global model. */
export interface RoundPolicy {
  /** Updates a round needs before it is aggregated. */
  size: number;
  /** The noise multiplier `aggregate` adds noise with (DP-FedAvg), 0 for none: for the round counts. */
  noiseMultiplier: number;
  /**
   * Versions an update's base may lag behind the current one and still join its round (its delta
   * applied to the current weights); older ones are refused as stale.
   */
  maxStaleness: number;
  /**
   * The weighted sum of what `updates` (their `staleness` set) add to their round, each decoded,
   * weighed and clipped as the round counts it, for a model shaped as `config`. The store sums a
   * round in parts and may keep a part as its sum alone.
   */
  sum(config: ModelConfig, updates: readonly PendingUpdate[]): Promise<UpdateSum>;
  /**
   * The next global weights from the current ones and the sum of the round's contributions.
   * `optimizer` is the state the previous round's aggregate returned, when the current version is
   * that round's (a version published or grown otherwise starts the optimizer afresh); a state
   * returned is kept with the new version, in the same transaction.
   */
  aggregate(
    current: WeightSet,
    round: DeltaAverage,
    optimizer: ServerAdamState | undefined,
  ): { weights: WeightSet; optimizer?: ServerAdamState } | Promise<{ weights: WeightSet; optimizer?: ServerAdamState }>;
}

/** Where an update left the round. */
export interface UpdateOutcome {
  /** The current global version after the update. */
  version: number;
  /** Updates waiting for the current version. */
  pending: number;
}

/**
 * Everything the sync server keeps. Writes are serialised by the store (one database lock), so
 * several server processes may share one store; reads never block writes.
 */
export interface SyncStore {
  currentCatalog(): Promise<CatalogRecord | undefined>;
  /** The current catalog's version, 0 before the first, without reading the catalog itself. */
  catalogVersion(): Promise<number>;
  currentModel(): Promise<ModelRecord | undefined>;
  model(version: number): Promise<ModelRecord | undefined>;
  /** The weights of `version` in the F32 wire form of `encodeTensors`, or undefined when unknown. */
  modelWeights(version: number): Promise<Uint8Array | undefined>;
  /**
   * Reads the current state under the write lock, asks `plan` what to append and appends it atomically.
   * A new model supersedes updates pending for older versions.
   */
  commit(
    plan: (state: StoreState) => Promise<StoreChange> | StoreChange,
  ): Promise<{ catalog?: CatalogRecord; model?: ModelRecord }>;
  /**
   * Adds an update to the current version's round and, when the round is full, aggregates it into
   * the next version, all in one transaction.
   * @throws OmniPersonaError `STALE_UPDATE` when `update.baseVersion` lags the current version by more
   * than `policy.maxStaleness`, `NOT_FOUND` when it never existed.
   */
  submitUpdate(update: PendingUpdate, policy: RoundPolicy): Promise<UpdateOutcome>;
  /**
   * Adds a signed-in shopper's events; known ids are skipped, so retries and concurrent writers
   * from several channels are safe and all of them survive. When anything was added, the log takes
   * the next version and keeps only its `keep` most recent events.
   */
  appendShopperEvents(userId: string, events: readonly SyncedEvent[], keep: number): Promise<ShopperEventsReceipt>;
  /**
   * The shopper's events stored after version `after`, oldest version first, at most `limit` of them
   * and only whole versions (a write never holds more than `limit`).
   */
  shopperEvents(userId: string, after: number, limit: number): Promise<ShopperEventsPage>;
  /**
   * Removes events from the shopper's log under the next version, keeping each id as a removal
   * (so that a channel that pushes it again adds nothing, and `shopperEvents` reports it); ids the
   * log never had are kept as removals too.
   */
  removeShopperEvents(userId: string, ids: readonly string[]): Promise<ShopperRemovalsReceipt>;
  /** Deletes everything kept about the shopper; false when there was nothing. */
  forgetShopper(userId: string): Promise<boolean>;
  close(): Promise<void>;
}
