import type { KeyValueStore } from '../adapters.js';
import { Catalog, type CatalogItem } from '../catalog.js';
import type { CoVisits } from '../co-visits.js';
import { OmniPersonaError, toOmniPersonaError } from '../errors.js';
import {
  FINE_TUNE,
  type HistoryInput,
  type ModelRuntime,
  type TrainingExample,
  type TrainReport,
} from '../model/model-runtime.js';
import { withItemRows } from '../model/model-spec.js';
import type { WeightSet } from '../model/weights.js';
import { seedOf } from '../random.js';
import { clipUpdate } from '../sync/factored-norm.js';
import type { PriorFile } from '../sync/prior-file.js';
import type { SyncClient } from '../sync/sync-client.js';
import { decodeTensors, encodeTensors, type WireDtype } from '../sync/tensor-codec.js';
import { coVisitsByRow } from './co-visits-by-row.js';
import { federatedContribution } from './federated-contribution.js';
import {
  MODEL_KEY,
  modelFeatures,
  offlineModel,
  priorModel,
  type StoredModel,
  serverModel,
  withCatalog,
} from './stored-model.js';

export interface ModelManagerDeps {
  kv: KeyValueStore;
  catalog: Catalog;
  loadRuntime: () => Promise<ModelRuntime>;
  client?: SyncClient;
  /** Downloads the shop's prior file; absent without the `prior` option. */
  prior?: () => Promise<PriorFile>;
  /**
   * Whether consent allows downloading what the shop publishes for every shopper: the server's global
   * model and catalog, and the prior. Neither request carries anything about the shopper.
   */
  canPull: () => boolean;
  /** Whether consent allows keeping weights in storage; without it the model lives in memory only. */
  canStore: () => boolean;
  offlineDim: number;
  /** The encoding of the global weights to download. */
  weightsDtype: WireDtype;
  now: () => number;
  /** Hears failures the manager recovers from (an unusable prior), through the personalizer's `error` event. */
  report: (error: unknown, context: string) => void;
}

/** After a failed load, the next attempt waits this long, doubling up to {@link MAX_RETRY_MS}. */
const FIRST_RETRY_MS = 5_000;
const MAX_RETRY_MS = 10 * 60_000;

/**
 * Owns the model's lifecycle on the device: where its weights come from (stored, server, the shop's
 * prior file, or built locally), training, persistence, and the update that goes back to the server.
 */
export class ModelManager {
  readonly #deps: ModelManagerDeps;
  #runtime?: ModelRuntime;
  #state?: StoredModel;
  #ready?: Promise<ModelRuntime>;
  #failure?: { error: OmniPersonaError; delay: number; retryAt: number };
  /** A state to load instead of the stored one, when it could not be stored. */
  #pending?: StoredModel;
  /** Item rows in the runtime: the model's, plus those of items seen on this device since it was built. */
  #rows = 0;
  /** A training run is using the runtime: its weights are not swapped under it. */
  #training = false;
  /** The state whose catalog the device uses, set before its runtime loads; its co-visits by row, once built. */
  #catalogState?: StoredModel;
  #coVisits?: { state: StoredModel; table: CoVisits | undefined };

  constructor(deps: ModelManagerDeps) {
    this.#deps = deps;
  }

  get version(): number | undefined {
    return this.#state?.version;
  }

  get backend(): ModelRuntime['backend'] | undefined {
    return this.#runtime?.backend;
  }

  /** Item rows the model scores: the catalog's first `rows` items. */
  get rows(): number {
    return this.#rows;
  }

  /**
   * Loads the runtime and weights once; later calls share the same promise. After a failure (the ML
   * chunk unreachable, no backend) callers get the same error at once until a back-off has passed,
   * so widgets and training do not hammer the shop's server.
   */
  ready(): Promise<ModelRuntime> {
    const failure = this.#failure;
    if (!this.#ready && failure && this.#deps.now() < failure.retryAt) return Promise.reject(failure.error);
    this.#ready ??= this.#load().then(
      (runtime) => {
        this.#failure = undefined;
        return runtime;
      },
      (error: unknown) => {
        this.#ready = undefined;
        const wrapped = toOmniPersonaError(error, 'MODEL_UNAVAILABLE', 'The model could not be loaded');
        const delay = Math.min(MAX_RETRY_MS, this.#failure ? this.#failure.delay * 2 : FIRST_RETRY_MS);
        this.#failure = { error: wrapped, delay, retryAt: this.#deps.now() + delay };
        throw wrapped;
      },
    );
    return this.#ready;
  }

  /**
   * Loads the model when needed, and gives items seen since the runtime was loaded their rows
   * ({@link rows} grows), unless a training run holds the runtime: they get theirs when it ends.
   */
  async fitCatalog(): Promise<void> {
    const runtime = await this.ready();
    const state = this.#state;
    if (state && !this.#training && this.#deps.catalog.size > this.#rows) {
      await this.#loadWeights(runtime, state, state.personal);
    }
  }

  /**
   * The catalog's co-visits by this device's rows, or undefined when it has none. They come with the
   * catalog (the server's, the prior's or the stored one), so they hold even when the model runtime
   * could not load. Co-visits that cannot be read are reported once and left out.
   */
  coVisits(): CoVisits | undefined {
    const state = this.#catalogState;
    if (!state?.coVisits) return undefined;
    if (this.#coVisits?.state !== state) {
      let table: CoVisits | undefined;
      try {
        table = coVisitsByRow(state.catalogItems, state.coVisits, this.#deps.catalog);
      } catch (error) {
        this.#deps.report(error, 'The catalog’s co-visits cannot be read; ranking without them');
      }
      this.#coVisits = { state, table };
    }
    return this.#coVisits.table;
  }

  async score(history: HistoryInput): Promise<Float32Array> {
    const runtime = await this.ready();
    return runtime.score(history);
  }

  /**
   * Fine-tunes on the shopper's examples (their whole log, which is the source of truth). From a
   * global model, every run starts again from the global weights and stays near them, so the
   * personal model is always the global one plus what this log teaches, and never drifts away over
   * many runs. A model built on the device has nothing to stay near: it keeps learning from where it
   * is.
   *
   * From a global model, the run first computes the device's federated contribution from the global
   * weights ({@link federatedContribution}), then reloads them for the fine-tune.
   */
  async train(examples: TrainingExample[], timeBudgetMs: number): Promise<TrainReport> {
    const runtime = await this.ready();
    const state = this.#requireState();
    this.#training = true;
    try {
      const fromGlobal = state.version > 0;
      if (fromGlobal || this.#deps.catalog.size > this.#rows) {
        await this.#loadWeights(runtime, state, fromGlobal ? state.base : state.personal);
      }
      const started = this.#deps.now();
      if (fromGlobal && !state.fromPrior && examples.length > 0) {
        const base = decodeTensors(state.base).tensors;
        const update = await federatedContribution(runtime, examples, base, state.config, timeBudgetMs);
        state.contribution = { update: encodeTensors(update), examples: examples.length };
        await this.#loadWeights(runtime, state, state.base);
      }
      // One budget for the run: the fine-tune gets what the contribution left (it takes two steps at least).
      const left = Math.max(0, timeBudgetMs - (this.#deps.now() - started));
      const report = await runtime.train(
        examples,
        fromGlobal
          ? { ...FINE_TUNE, timeBudgetMs: left, seed: fineTuneSeed(examples, state.version) }
          : { timeBudgetMs: left },
      );
      const weights = await runtime.weights();
      if (fromGlobal) {
        // What is stored matches the server's model: the rows of items it does not know are relearnt
        // from the log at each run, and never reach an update.
        state.personal = encodeTensors(withItemRows(weights, state.config.items));
      } else {
        // A model built on the device grows with the catalog it has seen.
        state.config = { ...state.config, items: this.#rows };
        state.catalogItems = this.#deps.catalog.items.slice(0, this.#rows);
        state.personal = encodeTensors(weights);
      }
      state.examplesSinceUpdate += examples.length;
      await this.#persist(state);
      return report;
    } finally {
      this.#training = false;
    }
  }

  /**
   * Fetches a newer global model when there is one and switches to it. The personal fine-tune is
   * redone from the event log by the caller, so nothing the shopper did is lost.
   *
   * A model started from the prior is replaced even when the server's version is the prior's: the
   * server checks an update's base by version number only, and nothing proves that the server's
   * version N is the model the prior was exported at (another database, one reset since). Updates
   * are computed only against weights this server sent, so one is never averaged against a base it
   * was not trained from.
   *
   * At the same model version, a newer catalog (items' metadata, co-visits: the manifest's
   * `latestCatalogVersion`) is fetched alone, and the personal weights stay.
   * @returns `model` when a new version was loaded, `catalog` when only the catalog was
   */
  async pull(): Promise<'model' | 'catalog' | undefined> {
    const client = this.#deps.client;
    if (!client) return undefined;
    await this.ready();
    const state = this.#requireState();
    const fresh = await client.manifest(state.etag);
    if (!fresh) return undefined;
    if (fresh.manifest.version !== state.version || state.fromPrior) {
      await this.#activate(await serverModel(client, this.#deps.weightsDtype, fresh));
      return 'model';
    }
    const latest = fresh.manifest.latestCatalogVersion ?? 0;
    if (latest <= (state.catalogVersion ?? 0)) return undefined;
    const document = await client.catalog();
    // The server only appends to its catalog; one that does not extend the model's is another
    // server's, and the whole model is fetched again.
    if (!extendsCatalog(document.items, state.catalogItems)) {
      await this.#activate(await serverModel(client, this.#deps.weightsDtype, fresh));
      return 'model';
    }
    const next = withCatalog(state, document);
    if (fresh.etag !== undefined) next.etag = fresh.etag;
    await this.#activate(next);
    return 'catalog';
  }

  /**
   * The device's contribution to the next federated round (see {@link train}), with how many
   * examples it learned from; undefined when nothing new was learnt since the last one sent.
   */
  async pendingUpdate(): Promise<{ delta: WeightSet; baseVersion: number; examples: number } | undefined> {
    const state = this.#state;
    // A model built on the device, or started from the prior, has no base the server vouches for.
    if (!state || state.version === 0 || state.fromPrior || state.examplesSinceUpdate === 0) return undefined;
    if (!state.contribution) return undefined;
    // Computed by sharedPart: the shopper's personal tensors stay on the device, the server sees zeros there.
    // Clipped here, so that what leaves the device is within the server's bound, not cut by it.
    const update = decodeTensors(state.contribution.update).tensors;
    const delta = state.clipNorm === undefined ? update : clipUpdate(update, state.clipNorm).delta;
    return { delta, baseVersion: state.version, examples: state.contribution.examples };
  }

  async markUpdateSent(): Promise<void> {
    const state = this.#requireState();
    state.examplesSinceUpdate = 0;
    await this.#persist(state);
  }

  /**
   * Goes back to the global weights, dropping the personal fine-tune and any update not yet sent:
   * the next shopper on this device (after a sign-out) starts from the shared model, not from the
   * last one's taste. Their own history retrains it at the next run.
   */
  async resetPersonal(): Promise<void> {
    const state = this.#state;
    if (!state) return;
    state.personal = state.base;
    state.examplesSinceUpdate = 0;
    delete state.contribution;
    // The next use reloads the runtime's weights from the reset state.
    this.#ready = undefined;
    this.#state = undefined;
    await this.#persist(state);
    this.#pending = state;
  }

  /**
   * Another instance (a tab of the shop) stored newer weights: the next use loads them from storage,
   * in the runtime already started.
   */
  reloadFromStorage(): void {
    if (!this.#state) return;
    this.#ready = undefined;
    this.#state = undefined;
    this.#pending = undefined;
  }

  /** Drops every personal weight in memory. The caller clears storage (`forget()` wipes it whole). */
  async forget(): Promise<void> {
    const runtime = this.#runtime;
    this.#runtime = undefined;
    this.#state = undefined;
    this.#catalogState = undefined;
    this.#coVisits = undefined;
    this.#pending = undefined;
    this.#ready = undefined;
    await runtime?.dispose();
  }

  async #load(): Promise<ModelRuntime> {
    const pending = this.#pending;
    this.#pending = undefined;
    const stored = pending ?? (this.#deps.canStore() ? await this.#deps.kv.get<StoredModel>(MODEL_KEY) : undefined);
    if (stored) {
      // A model built on the device is a stand-in: the prior takes over once it can be read (a
      // server model arrives by pull()). The log retrains it at the next run.
      const prior = stored.version === 0 ? await this.#fromPrior() : undefined;
      try {
        return await this.#activate(prior ?? stored);
      } catch (error) {
        // Weights of an earlier model format: start again from the server's model, or a local one.
        if (!(error instanceof OmniPersonaError && error.code === 'INVALID_PAYLOAD')) throw error;
      }
    }
    let state: StoredModel | undefined;
    if (this.#deps.client && this.#deps.canPull()) {
      state = await serverModel(this.#deps.client, this.#deps.weightsDtype).catch(() => undefined);
    }
    state ??= await this.#fromPrior();
    state ??= offlineModel(this.#deps.catalog, this.#deps.offlineDim);
    return this.#activate(state);
  }

  /**
   * The shop's prior file, when one is configured and consent allows downloads. A prior that cannot
   * be fetched or read is reported, and the caller falls back to a model built on the device.
   */
  async #fromPrior(): Promise<StoredModel | undefined> {
    const fetchPrior = this.#deps.prior;
    if (!fetchPrior || !this.#deps.canPull()) return undefined;
    try {
      return await priorModel(fetchPrior);
    } catch (error) {
      this.#deps.report(error, 'The prior could not be used; the model is built on the device');
      return undefined;
    }
  }

  async #activate(state: StoredModel): Promise<ModelRuntime> {
    // The model's rows follow the server catalog's order; items seen locally extend it afterwards.
    const ordered = new Catalog(state.catalogItems);
    for (const item of this.#deps.catalog.items) ordered.upsert(item);
    this.#deps.catalog.replaceWith(ordered);
    this.#catalogState = state;
    const runtime = this.#runtime ?? (await this.#deps.loadRuntime());
    await this.#loadWeights(runtime, state, state.personal);
    this.#runtime = runtime;
    this.#state = state;
    await this.#persist(state);
    return runtime;
  }

  /**
   * Loads `encoded` weights of `state` into the runtime with a row for every item in the catalog:
   * items the model was built without are placed by their side features (see {@link withItemRows}).
   */
  async #loadWeights(runtime: ModelRuntime, state: StoredModel, encoded: Uint8Array): Promise<void> {
    const rows = Math.max(state.config.items, this.#deps.catalog.size);
    const config = { ...state.config, items: rows };
    await runtime.load(
      config,
      withItemRows(decodeTensors(encoded).tensors, rows),
      modelFeatures(this.#deps.catalog, config),
    );
    this.#rows = rows;
  }

  async #persist(state: StoredModel): Promise<void> {
    if (this.#deps.canStore()) await this.#deps.kv.set(MODEL_KEY, state);
  }

  #requireState(): StoredModel {
    if (!this.#state) throw new OmniPersonaError('MODEL_UNAVAILABLE', 'The model is not loaded');
    return this.#state;
  }
}

/** Whether `items` starts with the items of `prefix`, in its order. */
function extendsCatalog(items: readonly CatalogItem[], prefix: readonly CatalogItem[]): boolean {
  return prefix.length <= items.length && prefix.every((item, row) => items[row]?.id === item.id);
}

/**
 * The fine-tune's seed, from what it learns from: one global version and one log give one personal
 * model, on whichever of the shopper's channels it is trained.
 */
function fineTuneSeed(examples: readonly TrainingExample[], version: number): number {
  return seedOf(
    (function* () {
      yield version;
      for (const example of examples) {
        yield example.target;
        yield* example.history.items;
        yield* example.history.signals;
      }
    })(),
  );
}
