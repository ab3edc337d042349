import * as v from 'valibot';
import type { CatalogItem } from '../catalog.js';
import { CHANNEL_PATTERN, TrackInputSchema } from '../event.js';
import type { ModelConfig } from '../model/model-spec.js';
import type { WireDtype } from './tensor-codec.js';

/**
 * The sync protocol between devices and `omnipersona-server`, version 1.
 * Paths are relative to the server's endpoint URL. Schemas here are used by both sides: the server
 * to validate requests, the device to validate responses.
 */
export const PROTOCOL_VERSION = 1;

export const ROUTES = {
  health: '/v1/health',
  catalog: '/v1/catalog',
  model: '/v1/model',
  /** `GET ${modelWeights}/${version}?dtype=F32|F16|I8`; `PUT ${model}` publishes (operator token). */
  modelWeights: '/v1/model/weights',
  /** `GET ${modelPrior}?dtype=F32|F16|I8` (operator token): the current model and catalog as a prior file. */
  modelPrior: '/v1/model/prior',
  updates: '/v1/updates',
  /**
   * The signed-in shopper's synced events, named by the shopper token (`Authorization: Bearer`):
   * `GET ?after=<version>` reads, `POST` adds (`ShopperEventsBody`).
   */
  shopperEvents: '/v1/shopper/events',
  /**
   * `PUT` (operator token): the shop's own shopper histories, counted into the catalog's co-visits
   * (`CatalogDocument.coVisits`) as the catalog's next version.
   */
  coVisits: '/v1/co-visits',
  /** `DELETE` (shopper token): forgets everything the server keeps about the shopper. */
  shopper: '/v1/shopper',
  /**
   * `POST` (shopper token, `ShopperRemovalsBody`): removes events from the shopper's log on every
   * channel (a profile correction); devices read the removals with the log's pages.
   */
  shopperRemovals: '/v1/shopper/removals',
  /**
   * `POST` (operator token): events from a channel without the SDK (an in-store POS, a call centre),
   * for the shopper `:userId`; they reach the shopper's devices at their next sync.
   */
  channelEvents: '/v1/shoppers/:userId/events',
} as const;

/** Header carrying the operator token on administrative calls. */
export const ADMIN_TOKEN_HEADER = 'authorization';

/**
 * What an update's tensors are: `delta`, the difference from the base model, tensor by tensor;
 * `low-rank`, the same with matrices sent as factors `name.u` and `name.v` whose product
 * approximates them (`core/sync/low-rank.ts`).
 */
export const UPDATE_KINDS = ['delta', 'low-rank'] as const;
export type UpdateKind = (typeof UPDATE_KINDS)[number];

/** Metadata keys of an update payload (the tensors are the difference from the base model). */
export const UPDATE_METADATA = {
  baseVersion: 'omnipersona.base_version',
  examples: 'omnipersona.examples',
  kind: 'omnipersona.kind',
} as const;

/** Metadata keys of a model weights payload (`GET /v1/model/weights/…`, `PUT /v1/model`). */
export const MODEL_METADATA = {
  /** Global model version of a downloaded payload. */
  version: 'omnipersona.version',
  /** Catalog version whose item order the rows follow. */
  catalogVersion: 'omnipersona.catalog_version',
  /** `ModelConfig` as JSON; optional on `PUT /v1/model`, where it defaults to the current config. */
  config: 'omnipersona.config',
  /** The catalog's items as a JSON array in row order; only in a prior file (`core/sync/prior-file.ts`). */
  catalog: 'omnipersona.catalog',
  /** The catalog's co-visits ({@link CoVisitRows}) as JSON; only in a prior file, and only when it has some. */
  coVisits: 'omnipersona.co_visits',
} as const;

export const ModelConfigSchema = v.object({
  items: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(10_000_000)),
  categories: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100_000)),
  brands: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1_000_000)),
  dim: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1024)),
}) satisfies v.GenericSchema<unknown, ModelConfig>;

/** What `GET /v1/model` returns: the current global model. */
export interface ModelManifest {
  version: number;
  config: ModelConfig;
  /** The catalog version whose item order the model's rows follow. */
  catalogVersion: number;
  /** Weights URL per dtype, relative to the endpoint. */
  weights: Record<WireDtype, string>;
  /** Updates aggregated into this version since the first one. */
  updates: number;
  createdAt: string;
  /** How updates are protected, and what a shopper has spent; absent from servers before it. */
  privacy?: ModelPrivacy;
  /**
   * The newest catalog version (`GET /v1/catalog`). It is newer than `catalogVersion` when items'
   * metadata or the co-visits changed since this model was published; a device holding an older
   * catalog fetches it again, without the weights. Absent from servers before it.
   */
  latestCatalogVersion?: number;
}

/**
 * The server's DP-FedAvg settings, and the privacy spent in the model's history by a shopper who
 * sent an update to every round of it.
 */
export interface ModelPrivacy {
  /** Every update is scaled down to this L2 norm; devices clip theirs to it before sending. */
  clipNorm: number;
  /** Gaussian noise of `noiseMultiplier × clipNorm` is added to each round's sum; 0 for none. */
  noiseMultiplier: number;
  /** The δ that `epsilon` is stated at. */
  delta: number;
  /** Rounds aggregated into this version, and how many of them with noise. */
  rounds: number;
  noisyRounds: number;
  /** ε at `delta`; null when a round without noise is in the history (no guarantee). */
  epsilon: number | null;
}

const Positive = v.pipe(v.number(), v.finite(), v.minValue(0));
const Count = v.pipe(v.number(), v.integer(), v.minValue(0));

export const ModelPrivacySchema = v.object({
  clipNorm: Positive,
  noiseMultiplier: Positive,
  delta: v.pipe(v.number(), v.gtValue(0), v.ltValue(1)),
  rounds: Count,
  noisyRounds: Count,
  epsilon: v.nullable(Positive),
}) satisfies v.GenericSchema<unknown, ModelPrivacy>;

export const ModelManifestSchema = v.object({
  version: v.pipe(v.number(), v.integer(), v.minValue(0)),
  config: ModelConfigSchema,
  catalogVersion: v.pipe(v.number(), v.integer(), v.minValue(0)),
  weights: v.object({ F32: v.string(), F16: v.string(), I8: v.string() }),
  updates: v.pipe(v.number(), v.integer(), v.minValue(0)),
  createdAt: v.string(),
  privacy: v.optional(ModelPrivacySchema),
  latestCatalogVersion: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
}) satisfies v.GenericSchema<unknown, ModelManifest>;

/** What `GET /v1/catalog` returns. */
export interface CatalogDocument {
  version: number;
  items: CatalogItem[];
  /** Which items shoppers go on to after each one (see {@link CoVisitRows}); absent when none were published. */
  coVisits?: CoVisitRows;
}

/** The most neighbours one item may list in {@link CoVisitRows}. */
export const MAX_CO_VISIT_NEIGHBOURS = 200;

/**
 * Co-visits as a catalog document (and a prior file) carries them: entry `i` lists the items shoppers
 * went on to after `items[i]` of the same document, as `[index into items, weight]` pairs, heaviest
 * first; the list may be shorter than `items` (the rest have none). Indices rather than ids because
 * the document's own `items` fix the order, and an index is half the bytes of an id on a table of
 * tens of neighbours per item; devices map each index to their own row through the item's id, and the
 * server keeps them by id across catalog imports. `CoVisits.fromRows` reads it.
 */
export type CoVisitRows = Array<Array<[number, number]>>;

const CoVisitIndex = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(10_000_000));
const CoVisitWeight = v.pipe(v.number(), v.finite(), v.gtValue(0), v.maxValue(1e9));

export const CoVisitRowsSchema = v.pipe(
  v.array(v.pipe(v.array(v.tuple([CoVisitIndex, CoVisitWeight])), v.maxLength(MAX_CO_VISIT_NEIGHBOURS))),
  v.maxLength(10_000_000),
  v.description(
    'Entry i lists the items shoppers went on to after items[i], as [index into items, weight] pairs, heaviest first',
  ),
) satisfies v.GenericSchema<unknown, CoVisitRows>;

/**
 * Why co-visits cannot be read against a catalog of `items` items (one more row than items, or an
 * index past them), or undefined when they can.
 */
export function coVisitsProblem(rows: CoVisitRows, items: number): string | undefined {
  if (rows.length > items) return `${rows.length} rows of co-visits for ${items} catalog items`;
  for (const [from, row] of rows.entries()) {
    for (const [to] of row) {
      if (to >= items) return `co-visits of item ${from} name item ${to}, past the ${items} catalog items`;
    }
  }
  return undefined;
}

export const CatalogItemSchema = v.object({
  id: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
  name: v.optional(v.pipe(v.string(), v.maxLength(500))),
  category: v.pipe(v.array(v.pipe(v.string(), v.maxLength(200))), v.maxLength(10)),
  brand: v.optional(v.pipe(v.string(), v.maxLength(200))),
  price: v.optional(v.pipe(v.number(), v.finite(), v.minValue(0))),
  currency: v.optional(v.pipe(v.string(), v.maxLength(3))),
  url: v.optional(v.pipe(v.string(), v.maxLength(2000))),
  image: v.optional(v.pipe(v.string(), v.maxLength(2000))),
  inStock: v.optional(v.boolean()),
}) satisfies v.GenericSchema<unknown, CatalogItem>;

export const CatalogDocumentSchema = v.pipe(
  v.object({
    version: v.pipe(v.number(), v.integer(), v.minValue(0)),
    items: v.pipe(v.array(CatalogItemSchema), v.maxLength(1_000_000)),
    coVisits: v.optional(CoVisitRowsSchema),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed || !dataset.value.coVisits) return;
    const problem = coVisitsProblem(dataset.value.coVisits, dataset.value.items.length);
    if (problem) addIssue({ message: `Invalid co-visits: ${problem}` });
  }),
) satisfies v.GenericSchema<unknown, CatalogDocument>;

/** What `POST /v1/updates` returns. */
export interface UpdateReceipt {
  accepted: boolean;
  /** The global version after this update: higher than the base when it completed a round. */
  version: number;
  /** Updates waiting in the current round. */
  pending: number;
  /** Updates a round needs before it is aggregated. */
  roundSize: number;
}

export const UpdateReceiptSchema = v.object({
  accepted: v.boolean(),
  version: v.pipe(v.number(), v.integer(), v.minValue(0)),
  pending: v.pipe(v.number(), v.integer(), v.minValue(0)),
  roundSize: v.pipe(v.number(), v.integer(), v.minValue(1)),
}) satisfies v.GenericSchema<unknown, UpdateReceipt>;

/** The body of every 4xx/5xx answer. */
export interface ErrorBody {
  error: { code: string; message: string };
}

/** Events one request may carry, and one page of a read holds at most. */
export const SHOPPER_EVENTS_PER_REQUEST = 500;

const EventId = v.pipe(v.string(), v.minLength(1), v.maxLength(200));
const ChannelName = v.pipe(v.string(), v.regex(CHANNEL_PATTERN, 'a lowercase channel name such as web, app or pos'));

/**
 * One event of a signed-in shopper as channels exchange it: what the device stored, without its page
 * context or device id. The same log gives the same profile and history on every channel.
 */
export const SyncedEventSchema = v.intersect([
  TrackInputSchema,
  v.object({
    id: EventId,
    time: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(8.64e15)),
    sessionId: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
    channel: ChannelName,
  }),
]);
export type SyncedEvent = v.InferOutput<typeof SyncedEventSchema>;

/** The body of `POST /v1/shopper/events`, and of `POST /v1/shoppers/:userId/events`. */
export const ShopperEventsBodySchema = v.object({
  events: v.pipe(v.array(v.unknown()), v.maxLength(SHOPPER_EVENTS_PER_REQUEST)),
});

/** What a write of shopper events answers. */
export interface ShopperEventsReceipt {
  /** The shopper's log version after the write: every event up to it is stored. */
  version: number;
  /** Events stored by this write; the others were known already (same id). */
  added: number;
}

export const ShopperEventsReceiptSchema = v.object({
  version: v.pipe(v.number(), v.integer(), v.minValue(0)),
  added: v.pipe(v.number(), v.integer(), v.minValue(0)),
}) satisfies v.GenericSchema<unknown, ShopperEventsReceipt>;

/** The body of `POST /v1/shopper/removals`: ids of events to remove from the shopper's log. */
export const ShopperRemovalsBodySchema = v.object({
  ids: v.pipe(v.array(EventId), v.minLength(1), v.maxLength(SHOPPER_EVENTS_PER_REQUEST)),
});
export type ShopperRemovalsBody = v.InferOutput<typeof ShopperRemovalsBodySchema>;

/** What `POST /v1/shopper/removals` answers. */
export interface ShopperRemovalsReceipt {
  /** The shopper's log version after the write. */
  version: number;
  /** Ids newly removed; the others were removed already. */
  removed: number;
}

export const ShopperRemovalsReceiptSchema = v.object({
  version: v.pipe(v.number(), v.integer(), v.minValue(0)),
  removed: v.pipe(v.number(), v.integer(), v.minValue(0)),
}) satisfies v.GenericSchema<unknown, ShopperRemovalsReceipt>;

/** What `GET /v1/shopper/events?after=N` answers: the events stored after version N, oldest first. */
export interface ShopperEventsPage {
  events: SyncedEvent[];
  /**
   * Ids of events removed after version N (`POST /v1/shopper/removals`): a device deletes them
   * from its own log. A removed id is never added again.
   */
  removed?: string[];
  /** The version to ask `after` next time. */
  version: number;
  /** True when more events follow: ask again with `after=version`. */
  more: boolean;
}

export const ShopperEventsPageSchema = v.object({
  events: v.pipe(v.array(SyncedEventSchema), v.maxLength(SHOPPER_EVENTS_PER_REQUEST)),
  removed: v.optional(v.pipe(v.array(EventId), v.maxLength(SHOPPER_EVENTS_PER_REQUEST))),
  version: v.pipe(v.number(), v.integer(), v.minValue(0)),
  more: v.boolean(),
}) satisfies v.GenericSchema<unknown, ShopperEventsPage>;
