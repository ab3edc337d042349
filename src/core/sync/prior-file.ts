import * as v from 'valibot';
import type { Transport } from '../adapters.js';
import type { CatalogItem } from '../catalog.js';
import { OmniPersonaError, toOmniPersonaError } from '../errors.js';
import { checkWeights, type ModelConfig } from '../model/model-spec.js';
import type { WeightSet } from '../model/weights.js';
import {
  CatalogItemSchema,
  type CoVisitRows,
  CoVisitRowsSchema,
  coVisitsProblem,
  MODEL_METADATA,
  ModelConfigSchema,
} from './protocol.js';
import { type DecodeLimits, decodeTensors, encodeTensors, type WireDtype } from './tensor-codec.js';

/**
 * A prior: one global model version with its config and the catalog its rows follow, in one file
 * that the shop serves with its own static assets. A device with no stored model and no sync server
 * to reach starts from it instead of from random weights. It is a tensor payload of the sync
 * protocol (`core/sync/tensor-codec.ts`) whose `__metadata__` holds {@link MODEL_METADATA}'s
 * `version`, `catalogVersion`, `config`, `catalog` and, when the catalog has them, `coVisits`;
 * `omnipersona-server export-prior` writes it.
 */
export interface PriorFile {
  /** The global model version it was exported at. */
  version: number;
  /** The catalog version whose items it holds. */
  catalogVersion: number;
  config: ModelConfig;
  /** The catalog's items, in the order of the model's rows. */
  items: CatalogItem[];
  /** The catalog's co-visits, by index into `items`; absent when none were published. */
  coVisits?: CoVisitRows;
  weights: WeightSet;
}

const Count = v.pipe(v.string(), v.digits('Expected a non-negative integer'), v.maxLength(9), v.transform(Number));

const PriorMetadataSchema = v.object({
  [MODEL_METADATA.version]: v.pipe(Count, v.minValue(1)),
  [MODEL_METADATA.catalogVersion]: Count,
  [MODEL_METADATA.config]: v.pipe(v.string(), v.parseJson(), ModelConfigSchema),
  [MODEL_METADATA.catalog]: v.pipe(
    v.string(),
    v.parseJson(),
    v.pipe(v.array(CatalogItemSchema), v.maxLength(10_000_000)),
  ),
  [MODEL_METADATA.coVisits]: v.optional(v.pipe(v.string(), v.parseJson(), CoVisitRowsSchema)),
});

/** The bytes of a prior file, with the weights in `dtype` (see {@link WireDtype}). */
export function encodePriorFile(prior: PriorFile, dtype: WireDtype = 'F32'): Uint8Array {
  return encodeTensors(
    prior.weights,
    {
      [MODEL_METADATA.version]: String(prior.version),
      [MODEL_METADATA.catalogVersion]: String(prior.catalogVersion),
      [MODEL_METADATA.config]: JSON.stringify(prior.config),
      [MODEL_METADATA.catalog]: JSON.stringify(prior.items),
      ...(prior.coVisits ? { [MODEL_METADATA.coVisits]: JSON.stringify(prior.coVisits) } : {}),
    },
    dtype,
  );
}

/**
 * Reads and checks a prior file: the payload, the metadata's schemas, one catalog item per model
 * row at most (ids unique, since an item's position is its row), co-visits that name only its
 * items, and weights that fit the config.
 * @throws OmniPersonaError `INVALID_PAYLOAD` naming the first problem.
 */
export function decodePriorFile(bytes: Uint8Array, limits?: DecodeLimits): PriorFile {
  const { tensors, metadata } = decodeTensors(bytes, limits);
  const parsed = v.safeParse(PriorMetadataSchema, metadata);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const path = v.getDotPath(issue);
    return fail(`metadata ${path ? `${path}: ` : ''}${issue.message}`);
  }
  const meta = parsed.output;
  const config = meta[MODEL_METADATA.config];
  const items = meta[MODEL_METADATA.catalog];
  if (items.length > config.items) fail(`${items.length} catalog items for a model of ${config.items} item rows`);
  const ids = new Set<string>();
  for (const item of items) {
    if (ids.has(item.id)) fail(`catalog item "${item.id}" is listed twice`);
    ids.add(item.id);
  }
  const coVisits = meta[MODEL_METADATA.coVisits];
  const problem = coVisits && coVisitsProblem(coVisits, items.length);
  if (problem) fail(problem);
  const misfit = checkWeights(tensors, config);
  if (misfit) fail(`weights do not fit the config: ${misfit}`);
  return {
    version: meta[MODEL_METADATA.version],
    catalogVersion: meta[MODEL_METADATA.catalogVersion],
    config,
    items,
    ...(coVisits ? { coVisits } : {}),
    weights: tensors,
  };
}

/**
 * Downloads and checks the prior at `url` through `transport` (the shop's own origin: the request
 * carries nothing about the shopper).
 * @throws OmniPersonaError `NETWORK` when it cannot be fetched, `NOT_FOUND` or `SERVER` for an HTTP
 * error, `INVALID_PAYLOAD` when the file is not a valid prior.
 */
export async function fetchPriorFile(transport: Transport, url: string): Promise<PriorFile> {
  let response: Awaited<ReturnType<Transport['request']>>;
  try {
    response = await transport.request({ method: 'GET', path: url });
  } catch (error) {
    throw toOmniPersonaError(error, 'NETWORK', `GET ${url} (the prior) failed`);
  }
  if (response.status >= 400) {
    const code = response.status === 404 ? 'NOT_FOUND' : 'SERVER';
    throw new OmniPersonaError(code, `GET ${url} (the prior) answered ${response.status}`);
  }
  try {
    return decodePriorFile(response.body);
  } catch (error) {
    const wrapped = toOmniPersonaError(error, 'INVALID_PAYLOAD', 'Invalid prior');
    throw new OmniPersonaError(wrapped.code, `The prior at ${url} cannot be used: ${wrapped.message}`, {
      cause: error,
    });
  }
}

function fail(message: string): never {
  throw new OmniPersonaError('INVALID_PAYLOAD', `Invalid prior: ${message}`);
}
