import * as v from 'valibot';
import { Catalog, type CatalogItem } from '../core/catalog.js';
import { OmniPersonaError } from '../core/errors.js';
import { checkWeights, initialWeights, type ModelConfig } from '../core/model/model-spec.js';
import type { WeightSet } from '../core/model/weights.js';
import { encodePriorFile } from '../core/sync/prior-file.js';
import {
  type CatalogDocument,
  MODEL_METADATA,
  ModelConfigSchema,
  type ModelManifest,
  type ModelPrivacy,
  ROUTES,
  type UpdateReceipt,
} from '../core/sync/protocol.js';
import { decodeTensors, encodeTensors, type WireDtype } from '../core/sync/tensor-codec.js';
import { carryCoVisits, countCoVisits } from './count-co-visits.js';
import { roundResult, withStep } from './federated-average.js';
import { formatIssues } from './format-issues.js';
import { growWeights } from './grow-weights.js';
import { gdpEpsilon } from './privacy-accountant.js';
import { ServerAdam } from './server-optimizer.js';
import { ShopperLog } from './shopper-log.js';
import type { ModelRecord, PendingUpdate, RoundPolicy, StoreState, SyncStore } from './store/sync-store.js';
import type { ResolvedSyncServerOptions } from './sync-server-options.js';
import { inlineUpdateProcessor, type UpdateProcessor } from './update-processing.js';

/** What a catalog import did. */
export interface CatalogImportResult {
  /** The current catalog version: new when the import changed anything. */
  catalogVersion: number;
  /** Items in the catalog after the import. */
  items: number;
  /** False when every item was already known with the same metadata. */
  changed: boolean;
  /** The current model version: new when the catalog outgrew the model. */
  modelVersion: number;
}

/** What a co-visit import did (`PUT /v1/co-visits`). */
export interface CoVisitImportResult {
  /** The current catalog version: new when the co-visits changed. */
  catalogVersion: number;
  /** False when the histories gave the co-visits the catalog already had. */
  changed: boolean;
  /** Shopper histories read. */
  histories: number;
  /** Item ids read from them. */
  items: number;
  /** Of those, ids the catalog does not list, which were left out. */
  skipped: number;
  /** A few of the ids left out. */
  unknown: string[];
  /** Item pairs in the published table. */
  pairs: number;
}

/** Encoded weights ready to send, with their strong validator. */
export interface WeightsFile {
  bytes: Uint8Array<ArrayBuffer>;
  etag: string;
}

const ConfigJsonSchema = v.pipe(v.string(), v.parseJson(), ModelConfigSchema);
const NO_ROUNDS = { noisy: 0, plain: 0, privacyLoss: 0 } as const;
const CACHED_FILES = 8;

/**
 * The sync server's behaviour, independent of HTTP: catalog and model publishing, downloads and the
 * federated rounds. Routes translate requests into these calls; the host calls them directly.
 */
export class SyncService {
  readonly #store: SyncStore;
  readonly #options: ResolvedSyncServerOptions;
  /** Signed-in shoppers' synced logs. */
  readonly shoppers: ShopperLog;
  /** Weights of a version never change, so encoded files are cached by version and dtype. */
  readonly #files = new Map<string, WeightsFile>();
  readonly #processor: UpdateProcessor;
  readonly #policy: RoundPolicy;
  /** The model most updates are based on: the current one when this server last saw a round's answer. */
  #expected: ModelRecord | undefined;

  /** `processor` checks and sums updates: on this thread unless a pool of workers is given. */
  constructor(
    store: SyncStore,
    options: ResolvedSyncServerOptions,
    processor: UpdateProcessor = inlineUpdateProcessor,
  ) {
    this.#store = store;
    this.#options = options;
    this.#processor = processor;
    this.#policy = this.#roundPolicy();
    this.shoppers = new ShopperLog(store, options.maxShopperEvents);
  }

  async catalog(): Promise<CatalogDocument> {
    const record = await this.#store.currentCatalog();
    const document: CatalogDocument = { version: record?.version ?? 0, items: record?.items ?? [] };
    if (record?.coVisits) document.coVisits = record.coVisits;
    return document;
  }

  /** @throws OmniPersonaError `MODEL_UNAVAILABLE` before the first model is published. */
  async manifest(): Promise<ModelManifest> {
    const [record, latestCatalogVersion] = await Promise.all([
      this.#store.currentModel(),
      this.#store.catalogVersion(),
    ]);
    if (!record) {
      throw new OmniPersonaError('MODEL_UNAVAILABLE', 'No model is published yet: import a catalog first');
    }
    const url = (dtype: WireDtype) => `${ROUTES.modelWeights}/${record.version}?dtype=${dtype}`;
    return {
      version: record.version,
      config: record.config,
      catalogVersion: record.catalogVersion,
      weights: { F32: url('F32'), F16: url('F16'), I8: url('I8') },
      updates: record.updates,
      createdAt: record.createdAt.toISOString(),
      privacy: this.#privacy(record),
      latestCatalogVersion,
    };
  }

  /** What a shopper who sent an update to every round of `record`'s history has spent. */
  #privacy(record: ModelRecord): ModelPrivacy {
    const { maxUpdateNorm: clipNorm, noiseMultiplier, privacyDelta: delta } = this.#options;
    const { noisy, plain, privacyLoss } = record.rounds;
    // A round without noise gives no guarantee at all, whatever came after it.
    const epsilon = plain > 0 ? Number.POSITIVE_INFINITY : gdpEpsilon(Math.sqrt(privacyLoss), delta);
    return {
      clipNorm,
      noiseMultiplier,
      delta,
      rounds: noisy + plain,
      noisyRounds: noisy,
      epsilon: Number.isFinite(epsilon) ? epsilon : null,
    };
  }

  /** @throws OmniPersonaError `NOT_FOUND` for an unknown version. */
  async weights(version: number, dtype: WireDtype): Promise<WeightsFile> {
    const key = `${version}:${dtype}`;
    const cached = this.#files.get(key);
    if (cached) return cached;
    const record = await this.#store.model(version);
    const stored = record && (await this.#store.modelWeights(version));
    if (!record || !stored) throw new OmniPersonaError('NOT_FOUND', `Model version ${version} does not exist`);
    let bytes = stored;
    if (dtype !== 'F32') {
      const { tensors, metadata } = decodeTensors(stored, { maxBytes: 2 ** 31 });
      bytes = encodeTensors(tensors, metadata, dtype);
    }
    const file = { bytes: ownBuffer(bytes), etag: `"${record.digest.slice(0, 32)}-${dtype}"` };
    if (this.#files.size >= CACHED_FILES) this.#files.delete(this.#files.keys().next().value as string);
    this.#files.set(key, file);
    return file;
  }

  /**
   * The current model and catalog as a prior file (`core/sync/prior-file.ts`), for the shop to serve
   * with its static assets: devices that cannot reach this server start from it.
   * @throws OmniPersonaError `MODEL_UNAVAILABLE` before the first model is published.
   */
  async prior(dtype: WireDtype): Promise<Uint8Array<ArrayBuffer>> {
    // The catalog first: a catalog and the model grown for it are committed together, so the model
    // read after it has a row for each of its items.
    const catalog = await this.#store.currentCatalog();
    const record = await this.#store.currentModel();
    const stored = record && (await this.#store.modelWeights(record.version));
    if (!record || !stored) {
      throw new OmniPersonaError('MODEL_UNAVAILABLE', 'No model is published yet: import a catalog first');
    }
    const prior = {
      version: record.version,
      catalogVersion: catalog?.version ?? 0,
      config: record.config,
      items: catalog?.items ?? [],
      ...(catalog?.coVisits ? { coVisits: catalog.coVisits } : {}),
      weights: decodeTensors(stored, { maxBytes: 2 ** 31 }).tensors,
    };
    return ownBuffer(encodePriorFile(prior, dtype));
  }

  /**
   * Merges normalised items into the catalog: known items keep their row and take the new metadata,
   * new items are appended, and the co-visits are kept. Starts the model, or grows it, when the
   * catalog outgrows it.
   */
  async importCatalog(items: readonly CatalogItem[]): Promise<CatalogImportResult> {
    const dim = this.#options.modelDim;
    let size = 0;
    const result = await this.#store.commit(async (state) => {
      const merged = new Catalog([...(state.catalog?.items ?? []), ...items]);
      size = merged.size;
      const next = [...merged.items];
      const changed = !state.catalog || JSON.stringify(next) !== JSON.stringify(state.catalog.items);
      const coVisits = changed ? carryCoVisits(state.catalog?.coVisits, state.catalog?.items ?? [], next) : undefined;
      const catalog = changed ? { catalog: next, ...(coVisits ? { coVisits } : {}) } : {};
      const target = catalogRows(merged);
      const model = state.model;
      if (!model || !fitsSpec(model.config)) {
        // No model yet, or one of an earlier model format whose tensors the devices no longer read.
        const config = { ...target, dim };
        return { ...catalog, model: { config, weights: initialWeights(config), updates: 0, rounds: NO_ROUNDS } };
      }
      if (
        target.items <= model.config.items &&
        target.categories <= model.config.categories &&
        target.brands <= model.config.brands
      ) {
        return catalog;
      }
      return { ...catalog, model: await this.#grown(state, { ...target, dim: model.config.dim }) };
    });
    const current = result.catalog ?? (await this.#store.currentCatalog());
    const model = result.model ?? (await this.#store.currentModel());
    if (result.model) this.#options.logger.info(`model version ${result.model.version} sized for ${size} items`);
    return {
      catalogVersion: current?.version ?? 0,
      items: size,
      changed: result.catalog !== undefined,
      modelVersion: model?.version ?? 0,
    };
  }

  /**
   * Counts the shop's own shopper histories (item ids, oldest first) into co-visits and publishes
   * them with the catalog as its next version, replacing those it had; devices fetch the catalog
   * again when the manifest names a newer one. Ids the catalog does not list are left out.
   * @throws OmniPersonaError `NOT_FOUND` before the first catalog import.
   */
  async importCoVisits(histories: ReadonlyArray<readonly string[]>): Promise<CoVisitImportResult> {
    let counted: ReturnType<typeof countCoVisits> | undefined;
    const result = await this.#store.commit((state) => {
      if (!state.catalog) {
        throw new OmniPersonaError('NOT_FOUND', 'No catalog is published yet: import a catalog before its co-visits');
      }
      counted = countCoVisits(state.catalog.items, histories);
      const { rows } = counted;
      if (JSON.stringify(rows) === JSON.stringify(state.catalog.coVisits)) return {};
      return { catalog: state.catalog.items, ...(rows ? { coVisits: rows } : {}) };
    });
    const { pairs, read, skipped, unknown } = counted as NonNullable<typeof counted>;
    const catalogVersion = result.catalog?.version ?? (await this.#store.catalogVersion());
    if (result.catalog) this.#options.logger.info(`catalog version ${catalogVersion} with ${pairs} co-visit pairs`);
    return {
      catalogVersion,
      changed: result.catalog !== undefined,
      histories: histories.length,
      items: read,
      skipped,
      unknown,
      pairs,
    };
  }

  /**
   * Publishes operator-trained weights as the next version. Without `config`, the current model's
   * applies. A model with fewer rows than the catalog is grown to it.
   * @throws OmniPersonaError `INVALID_PAYLOAD` when the weights do not fit the config or the catalog.
   */
  async publishModel(weights: WeightSet, config?: ModelConfig): Promise<ModelManifest> {
    if (config !== undefined) {
      const parsed = v.safeParse(ModelConfigSchema, config);
      if (!parsed.success) {
        throw new OmniPersonaError('INVALID_PAYLOAD', `Invalid model config: ${formatIssues(parsed.issues)}`);
      }
    }
    await this.#store.commit((state) => {
      const target = config ?? state.model?.config;
      if (!target) {
        throw new OmniPersonaError('INVALID_PAYLOAD', 'A model config is required: no model is published yet');
      }
      const problem = checkWeights(weights, target);
      if (problem) throw new OmniPersonaError('INVALID_PAYLOAD', `Weights do not fit config: ${problem}`);
      const catalog = state.catalog && new Catalog(state.catalog.items);
      const history = { updates: state.model?.updates ?? 0, rounds: state.model?.rounds ?? NO_ROUNDS };
      if (!catalog) return { model: { config: target, weights, ...history } };
      const rows = catalogRows(catalog);
      if (target.items > rows.items || target.categories > rows.categories || target.brands > rows.brands) {
        throw new OmniPersonaError(
          'INVALID_PAYLOAD',
          `Model has ${target.items} item, ${target.categories} category and ${target.brands} brand rows; catalog version ${state.catalog?.version} has ${rows.items}, ${rows.categories} and ${rows.brands}`,
        );
      }
      const grown = { ...rows, dim: target.dim };
      return { model: { config: grown, weights: growWeights(weights, grown), ...history } };
    });
    return this.manifest();
  }

  /** Decodes a `PUT /v1/model` payload; its config comes from metadata or the current model. */
  publishModelPayload(bytes: Uint8Array): Promise<ModelManifest> {
    const { tensors, metadata } = decodeTensors(bytes, { maxBytes: this.#options.maxModelBytes });
    const json = metadata[MODEL_METADATA.config];
    if (json === undefined) return this.publishModel(tensors);
    const parsed = v.safeParse(ConfigJsonSchema, json);
    if (!parsed.success) {
      throw new OmniPersonaError(
        'INVALID_PAYLOAD',
        `Invalid ${MODEL_METADATA.config} metadata: ${formatIssues(parsed.issues)}`,
      );
    }
    return this.publishModel(tensors, parsed.output);
  }

  /**
   * Validates a device's update, clips it, and adds it to the current round; the update that
   * completes the round aggregates it into the next version.
   * An update based on a version up to `maxStaleness` behind the current one joins the current round
   * with its weight divided by one plus its lag (its delta applied to the current weights).
   * @throws OmniPersonaError `INVALID_PAYLOAD`, `NOT_FOUND` (unknown base version) or `STALE_UPDATE`
   * (base too old, or of another model shape: download the current model and train again).
   */
  async submitUpdate(bytes: Uint8Array): Promise<UpdateReceipt> {
    const { maxUpdateBytes: maxBytes, maxUpdateNorm: maxNorm, roundSize } = this.#options;
    // The worker reads the header and checks the update against the shape it most likely has; one
    // that does not fit it and is based on another version comes back to be checked against its own.
    this.#expected ??= await this.#store.currentModel();
    const expected = this.#expected;
    // Only the version and shape go to the worker, not the whole record.
    const shapeOf = ({ version, config }: ModelRecord) => ({ version, config });
    let result = await this.#processor.check(bytes, {
      ...(expected ? { expected: shapeOf(expected) } : {}),
      maxBytes,
      maxNorm,
    });
    const { baseVersion, examples } = result.header;
    // A version's record never changes, so the store answers this from memory; whether the base is
    // still recent enough is decided under the store's lock, with the round.
    const base = baseVersion === expected?.version ? expected : await this.#store.model(baseVersion);
    if (!base) {
      const current = await this.#store.currentModel();
      throw new OmniPersonaError(
        'NOT_FOUND',
        `Base model version ${baseVersion} does not exist; the current version is ${current?.version ?? 'none'}`,
      );
    }
    let checkedAgainst = expected;
    if (result.bytes) {
      result = await this.#processor.check(result.bytes, { expected: shapeOf(base), maxBytes, maxNorm });
      checkedAgainst = base;
    }
    if (!result.checked) {
      throw new OmniPersonaError('INTERNAL', `Update was not checked against version ${base.version}`);
    }
    // An update that fits the shape it was checked against cannot fit a base of another shape.
    if (checkedAgainst !== base && JSON.stringify(checkedAgainst?.config) !== JSON.stringify(base.config)) {
      throw new OmniPersonaError('INVALID_PAYLOAD', `Update does not fit model ${base.version}: it has another shape`);
    }
    const { encoded } = result.checked;
    const outcome = await this.#store.submitUpdate({ baseVersion, examples, encoded }, this.#policy);
    if (outcome.version !== this.#expected?.version) this.#expected = await this.#store.model(outcome.version);
    if (outcome.version > base.version) {
      this.#options.logger.info(`model version ${outcome.version} aggregated from a full round`);
    }
    return { accepted: true, version: outcome.version, pending: outcome.pending, roundSize };
  }

  /**
   * How rounds count and aggregate updates under the options. One object for every update, so that
   * the store sums a batch of them in one call.
   */
  #roundPolicy(): RoundPolicy {
    const { maxUpdateNorm, noiseMultiplier, roundSize, maxUpdateWeight, maxStaleness } = this.#options;
    const privacy = noiseMultiplier > 0 ? { clipNorm: maxUpdateNorm, noiseMultiplier } : undefined;
    // DP-FedAvg weighs every update alike; otherwise by its examples, capped, then down-weighted by
    // how many versions behind its base was.
    const weightOf = (pending: PendingUpdate) =>
      privacy ? 1 : Math.min(pending.examples, maxUpdateWeight) / (1 + (pending.staleness ?? 0));
    return {
      size: roundSize,
      noiseMultiplier,
      maxStaleness,
      sum: (config, updates) =>
        this.#processor.sum(
          config,
          updates.map((pending) => ({
            encoded: pending.encoded,
            weight: weightOf(pending),
            ...(privacy ? { clipNorm: privacy.clipNorm } : {}),
          })),
        ),
      aggregate: (weights, round, optimizer) => {
        const mean = roundResult(round, privacy);
        if (!mean) return { weights };
        const { serverOptimizer, serverLearningRate } = this.#options;
        if (serverOptimizer === 'mean') return { weights: withStep(weights, mean) };
        // FedAdam: the round's mean is one step of a large mini-batch, as in the offline simulation.
        const adam = new ServerAdam({ learningRate: serverLearningRate }, optimizer);
        return { weights: adam.step(weights, mean), optimizer: adam.state() };
      },
    };
  }

  async #grown(state: StoreState, config: ModelConfig) {
    const weights = await state.weights();
    if (!weights || !state.model) throw new OmniPersonaError('INTERNAL', 'The current model has no weights');
    const { updates, rounds } = state.model;
    return { config, weights: growWeights(weights, config), updates, rounds };
  }
}

/** The table sizes a model needs for every row of `catalog`. */
function catalogRows(catalog: Catalog): Omit<ModelConfig, 'dim'> {
  return { items: catalog.size, categories: catalog.categories.length, brands: catalog.brands.length };
}

/** Whether a stored model's config is one of the current format (an earlier one had no brand table). */
function fitsSpec(config: ModelConfig): boolean {
  return v.is(ModelConfigSchema, config);
}

/** Narrows bytes to an `ArrayBuffer`-backed view (what responses take), copying only a shared buffer. */
function ownBuffer(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}
