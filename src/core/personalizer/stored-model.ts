import type { Catalog, CatalogItem } from '../catalog.js';
import { OmniPersonaError } from '../errors.js';
import type { ItemFeatures } from '../model/model-runtime.js';
import { initialWeights, type ModelConfig, PRICE_BANDS } from '../model/model-spec.js';
import type { WeightSet } from '../model/weights.js';
import type { PriorFile } from '../sync/prior-file.js';
import type { CatalogDocument, CoVisitRows } from '../sync/protocol.js';
import type { SyncClient } from '../sync/sync-client.js';
import { encodeTensors, type WireDtype } from '../sync/tensor-codec.js';

/** The key-value entry the model is kept under. */
export const MODEL_KEY = 'model';

/** What is kept on the device so that a reload resumes where the shopper left off. */
export interface StoredModel {
  /** Global version the personal weights started from; 0 for a model built on the device. */
  version: number;
  config: ModelConfig;
  catalogItems: CatalogItem[];
  /** The server catalog's version `catalogItems` come from; absent for a model built on the device. */
  catalogVersion?: number;
  /** The catalog's co-visits, by index into `catalogItems`; absent when it has none. */
  coVisits?: CoVisitRows;
  /** The global weights, encoded; the base of every update. */
  base: Uint8Array;
  /** The personal (fine-tuned) weights, encoded. */
  personal: Uint8Array;
  /** Training examples seen since the last pushed update. */
  examplesSinceUpdate: number;
  /**
   * What this device sends for the next federated round, encoded: the shared tensors after
   * `FEDERATED_LOCAL` steps from `base` on the log, minus `base`. Absent until a training run from a
   * global model computes one (and in a model stored before devices computed it).
   */
  contribution?: { update: Uint8Array; examples: number };
  etag?: string;
  /** The server's clip norm (DP-FedAvg's C): updates are scaled down to it before they leave. */
  clipNorm?: number;
  /**
   * Started from the shop's prior file, not from weights the server sent: the next pull replaces it
   * even at the same version, and no update is computed against it (see `ModelManager.pull`).
   */
  fromPrior?: true;
}

/** A fresh state: personal weights equal to the global ones, nothing learnt yet. */
export function storedModel(
  version: number,
  config: ModelConfig,
  catalogItems: CatalogItem[],
  weights: WeightSet,
  etag?: string,
): StoredModel {
  const encoded = encodeTensors(weights);
  const state: StoredModel = {
    version,
    config,
    catalogItems,
    base: encoded,
    personal: encoded,
    examplesSinceUpdate: 0,
  };
  if (etag !== undefined) state.etag = etag;
  return state;
}

/** A server manifest as `SyncClient.manifest` answers it. */
type FreshManifest = NonNullable<Awaited<ReturnType<SyncClient['manifest']>>>;

/** The server's current model with its catalog; `fresh` is its manifest when already fetched. */
export async function serverModel(client: SyncClient, dtype: WireDtype, fresh?: FreshManifest): Promise<StoredModel> {
  const current = fresh ?? (await client.manifest());
  if (!current) throw new OmniPersonaError('SERVER', 'The server answered 304 to an unconditional request');
  const document = await client.catalog();
  const weights = await client.weights(current.manifest.weights[dtype]);
  const { manifest } = current;
  const state = withCatalog(
    storedModel(manifest.version, manifest.config, document.items, weights, current.etag),
    document,
  );
  if (manifest.privacy) state.clipNorm = manifest.privacy.clipNorm;
  return state;
}

/** `state` with a catalog `document` of the server in place of the one it had, co-visits included. */
export function withCatalog(state: StoredModel, document: CatalogDocument): StoredModel {
  const { coVisits: _previous, ...rest } = state;
  return {
    ...rest,
    catalogItems: document.items,
    catalogVersion: document.version,
    ...(document.coVisits ? { coVisits: document.coVisits } : {}),
  };
}

/** The shop's prior file as a state; the caller decides what a failure to fetch or read it means. */
export async function priorModel(fetchPrior: () => Promise<PriorFile>): Promise<StoredModel> {
  const prior = await fetchPrior();
  const state = withCatalog(storedModel(prior.version, prior.config, prior.items, prior.weights), {
    version: prior.catalogVersion,
    items: prior.items,
    ...(prior.coVisits ? { coVisits: prior.coVisits } : {}),
  });
  state.fromPrior = true;
  return state;
}

/**
 * A model built on the device from the items seen so far, for shops without a server or while offline.
 * @throws OmniPersonaError `MODEL_UNAVAILABLE` when no item is known yet.
 */
export function offlineModel(catalog: Catalog, dim: number): StoredModel {
  if (catalog.size === 0) {
    throw new OmniPersonaError('MODEL_UNAVAILABLE', 'No server model and no known items to build one from');
  }
  const config = {
    items: catalog.size,
    categories: catalog.categories.length,
    brands: catalog.brands.length,
    dim,
  };
  return storedModel(0, config, [...catalog.items], initialWeights(config));
}

/**
 * The side features of the model's rows from the catalog. A category or brand the model has no
 * row for yet (it appeared after the model was built) reads as unknown until the server's next
 * model grows its table.
 */
export function modelFeatures(catalog: Catalog, config: ModelConfig): ItemFeatures {
  const known = (values: Int32Array, rows: number) => {
    const fitted = new Int32Array(config.items);
    for (let row = 0; row < fitted.length; row++) {
      const value = values[row] ?? 0;
      fitted[row] = value < rows ? value : 0;
    }
    return fitted;
  };
  return {
    categories: known(catalog.itemCategories(), config.categories),
    brands: known(catalog.itemBrands(), config.brands),
    priceBands: known(catalog.itemPriceBands(), PRICE_BANDS),
  };
}
