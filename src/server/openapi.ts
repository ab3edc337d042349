import { type JsonSchema, toJsonSchema } from '@valibot/to-json-schema';
import * as v from 'valibot';
import { ItemSchema } from '../core/event.js';
import { MAX_UPDATE_RANK } from '../core/sync/low-rank.js';
import {
  CatalogDocumentSchema,
  ModelManifestSchema,
  PROTOCOL_VERSION,
  ROUTES,
  ShopperEventsPageSchema,
  ShopperEventsReceiptSchema,
  ShopperRemovalsBodySchema,
  ShopperRemovalsReceiptSchema,
  SyncedEventSchema,
  UPDATE_METADATA,
  UpdateReceiptSchema,
} from '../core/sync/protocol.js';
import { MAX_CATALOG_ITEMS } from './catalog-input.js';
import { CoVisitInputSchema } from './co-visit-input.js';
import { SHOPPER_TOKEN_AUDIENCE } from './shopper-token.js';

/** Where the server serves {@link openApiDocument}. */
export const OPENAPI_PATH = '/v1/openapi.json';

const ErrorBodySchema = v.object({
  error: v.object({
    code: v.pipe(v.string(), v.description('A stable, machine-readable code such as INVALID_PAYLOAD')),
    message: v.pipe(v.string(), v.description('What was expected and what was received, for people')),
  }),
});

const HealthSchema = v.object({ ok: v.literal(true), version: v.literal(PROTOCOL_VERSION) });

const CatalogBodySchema = v.union([
  v.pipe(v.array(ItemSchema), v.minLength(1), v.maxLength(MAX_CATALOG_ITEMS)),
  v.object({ items: v.pipe(v.array(ItemSchema), v.minLength(1), v.maxLength(MAX_CATALOG_ITEMS)) }),
]);

const CatalogImportSchema = v.object({
  catalogVersion: v.number(),
  items: v.number(),
  changed: v.boolean(),
  modelVersion: v.number(),
});

const CoVisitImportSchema = v.object({
  catalogVersion: v.number(),
  changed: v.boolean(),
  histories: v.number(),
  items: v.number(),
  skipped: v.pipe(v.number(), v.description('Item ids the catalog does not list: left out of their history')),
  unknown: v.pipe(v.array(v.string()), v.description('A few of the ids left out')),
  pairs: v.number(),
});

/** A `POST` body of shopper events (the server checks each event against `SyncedEvent`). */
const EventsBodySchema = v.object({ events: v.pipe(v.array(SyncedEventSchema), v.maxLength(500)) });

/** Every named schema of the document, converted once. */
const SCHEMAS: Record<string, v.GenericSchema> = {
  Error: ErrorBodySchema,
  Health: HealthSchema,
  CatalogDocument: CatalogDocumentSchema,
  CatalogBody: CatalogBodySchema,
  CatalogImport: CatalogImportSchema,
  CoVisitBody: CoVisitInputSchema,
  CoVisitImport: CoVisitImportSchema,
  ModelManifest: ModelManifestSchema,
  UpdateReceipt: UpdateReceiptSchema,
  SyncedEvent: SyncedEventSchema,
  ShopperEventsBody: EventsBodySchema,
  ShopperEventsPage: ShopperEventsPageSchema,
  ShopperEventsReceipt: ShopperEventsReceiptSchema,
  ShopperRemovalsBody: ShopperRemovalsBodySchema,
  ShopperRemovalsReceipt: ShopperRemovalsReceiptSchema,
};

/** Schemas that others hold, each one entry of the document that the others reference. */
const SHARED: Record<string, v.GenericSchema> = { Item: ItemSchema, SyncedEvent: SyncedEventSchema };
SCHEMAS.Item = ItemSchema;

const ref = (name: keyof typeof SCHEMAS & string) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: keyof typeof SCHEMAS & string) => ({ 'application/json': { schema: ref(name) } });
const binary = {
  'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } },
};
const error = (description: string) => ({ description, content: json('Error') });

const ERRORS = {
  badRequest: error('Malformed request (`INVALID_REQUEST`, `INVALID_PAYLOAD`)'),
  unauthorized: error('No credentials, or a shopper token that is forged, expired or malformed (`UNAUTHORIZED`)'),
  forbidden: error('Wrong operator token, or the feature is off on this server (`FORBIDDEN`)'),
  notFound: error('Unknown version or route (`NOT_FOUND`, `MODEL_UNAVAILABLE`)'),
  tooLarge: error('Body over the server’s limit (`PAYLOAD_TOO_LARGE`); the connection is closed'),
};

/** A write of shopper events: its body and its answers. */
const EVENTS_WRITE = {
  requestBody: { required: true, content: json('ShopperEventsBody') },
  responses: {
    200: { description: 'Stored', content: json('ShopperEventsReceipt') },
    400: ERRORS.badRequest,
    401: ERRORS.unauthorized,
    403: ERRORS.forbidden,
    413: ERRORS.tooLarge,
  },
};

const DTYPE = {
  name: 'dtype',
  in: 'query',
  schema: { type: 'string', enum: ['F32', 'F16', 'I8'] },
  description: 'Weight encoding: float32, float16, or int8 with a float32 scale per tensor',
};

const TENSOR_FORMAT =
  'The safetensors layout: an 8-byte little-endian header length, a JSON header naming each tensor’s dtype, shape and byte range (plus `__metadata__` strings), then the little-endian tensor data.';

/**
 * The sync protocol as an OpenAPI 3.1 document, for native apps and in-store systems that talk to
 * the server without the SDK. Built from the same valibot schemas the server validates with, so
 * it cannot drift from them; `openapi.json` at the repository root is this document, checked by a
 * test.
 */
export function openApiDocument(): Record<string, unknown> {
  const schemas: Record<string, JsonSchema> = {};
  for (const [name, schema] of Object.entries(SCHEMAS)) {
    // Shared schemas are converted once and referenced, not repeated inside every schema that holds them.
    const definitions = Object.fromEntries(Object.entries(SHARED).filter(([shared]) => shared !== name));
    const converted = toJsonSchema(schema, {
      target: 'draft-2020-12',
      errorMode: 'ignore',
      typeMode: 'input',
      definitions,
    });
    const {
      $schema: _dialect,
      $defs: _shared,
      ...rest
    } = converted as JsonSchema & { $schema?: string; $defs?: unknown };
    schemas[name] = JSON.parse(JSON.stringify(rest).replaceAll('"#/$defs/', '"#/components/schemas/'));
  }
  const admin = [{ operatorToken: [] }];
  const shopper = [{ shopperToken: [] }];
  return {
    openapi: '3.1.0',
    info: {
      title: 'OmniPersona sync server',
      version: String(PROTOCOL_VERSION),
      description: `Protocol version ${PROTOCOL_VERSION}: the catalog, the global model, federated updates, and signed-in shoppers' synced events. Every error answers an \`Error\` body.`,
    },
    components: {
      securitySchemes: {
        operatorToken: { type: 'http', scheme: 'bearer', description: 'The server’s admin token (`--admin-token`)' },
        shopperToken: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: `An HS256 JWT signed with the server's site secret, with \`sub\` (the shop's user id), \`aud\` = \`${SHOPPER_TOKEN_AUDIENCE}\` and \`exp\`.`,
        },
      },
      schemas,
    },
    paths: {
      [ROUTES.health]: {
        get: {
          summary: 'Liveness and protocol version',
          responses: { 200: { description: 'Up', content: json('Health') } },
        },
      },
      [OPENAPI_PATH]: {
        get: { summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1 document' } } },
      },
      [ROUTES.catalog]: {
        get: {
          summary: 'The current catalog; item rows follow the model’s row order',
          responses: { 200: { description: 'Catalog', content: json('CatalogDocument') } },
        },
        put: {
          summary: 'Import a catalog feed: known items keep their row, new ones are appended',
          security: admin,
          requestBody: {
            required: true,
            content: {
              ...json('CatalogBody'),
              'text/csv': {
                schema: { type: 'string' },
                description: 'Header row: id,name,category,brand,price,currency,url,image,inStock',
              },
              'application/x-ndjson': { schema: { type: 'string' }, description: 'One item per line' },
            },
          },
          responses: {
            200: { description: 'Imported', content: json('CatalogImport') },
            400: ERRORS.badRequest,
            401: ERRORS.unauthorized,
            403: ERRORS.forbidden,
            413: ERRORS.tooLarge,
          },
        },
      },
      [ROUTES.coVisits]: {
        put: {
          summary: 'Count the shop’s own shopper histories into the catalog’s co-visits, as its next version',
          description:
            'The histories replace those counted before. Each is one shopper’s item ids, oldest first; ids the catalog does not list are left out. Devices read the co-visits with `GET /v1/catalog` (`coVisits`) and add them to their model’s scores. Bodies are limited like catalog feeds.',
          security: admin,
          requestBody: {
            required: true,
            content: {
              ...json('CoVisitBody'),
              'text/csv': {
                schema: { type: 'string' },
                description:
                  'Header row: shopper,item,time (other columns ignored); time a number that grows with time or an ISO 8601 date',
              },
              'application/x-ndjson': {
                schema: { type: 'string' },
                description: 'One {"shopper","item","time"} object per line',
              },
            },
          },
          responses: {
            200: { description: 'Counted', content: json('CoVisitImport') },
            400: ERRORS.badRequest,
            401: ERRORS.unauthorized,
            403: ERRORS.forbidden,
            404: error('No catalog is published yet (`NOT_FOUND`)'),
            413: ERRORS.tooLarge,
          },
        },
      },
      [ROUTES.model]: {
        get: {
          summary: 'The current global model’s manifest, with its privacy accounting',
          parameters: [{ name: 'If-None-Match', in: 'header', schema: { type: 'string' } }],
          responses: {
            200: { description: 'Manifest (with an ETag)', content: json('ModelManifest') },
            304: { description: 'Unchanged since the ETag sent' },
            404: ERRORS.notFound,
          },
        },
        put: {
          summary: 'Publish operator-trained weights as the next version',
          description: `${TENSOR_FORMAT} Metadata \`omnipersona.config\` may carry the model config as JSON.`,
          security: admin,
          requestBody: { required: true, content: binary },
          responses: {
            200: { description: 'Published', content: json('ModelManifest') },
            400: ERRORS.badRequest,
            401: ERRORS.unauthorized,
            403: ERRORS.forbidden,
            413: ERRORS.tooLarge,
          },
        },
      },
      [`${ROUTES.modelWeights}/{version}`]: {
        get: {
          summary: 'A model version’s weights (immutable)',
          description: TENSOR_FORMAT,
          parameters: [{ name: 'version', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } }, DTYPE],
          responses: { 200: { description: 'Weights', content: binary }, 400: ERRORS.badRequest, 404: ERRORS.notFound },
        },
      },
      [ROUTES.modelPrior]: {
        get: {
          summary: 'The current model and catalog as a prior file, for the shop to serve with its static files',
          security: admin,
          parameters: [DTYPE],
          responses: {
            200: { description: 'Prior file', content: binary },
            401: ERRORS.unauthorized,
            403: ERRORS.forbidden,
            404: ERRORS.notFound,
          },
        },
      },
      [ROUTES.updates]: {
        post: {
          summary: 'A device’s contribution to the current federated round',
          description: `${TENSOR_FORMAT} The tensors are the difference from the base version, every tensor of the model; metadata \`${UPDATE_METADATA.baseVersion}\`, \`${UPDATE_METADATA.examples}\` (1 to 10,000) and \`${UPDATE_METADATA.kind}\`: \`delta\` (each tensor whole) or \`low-rank\` (any matrix may instead be sent as two factors \`<name>.u\`, rows × k, and \`<name>.v\`, k × columns, k from 1 to ${MAX_UPDATE_RANK}, whose product is the difference; what the SDK sends, in I8). The server clips it to its norm bound.`,
          requestBody: { required: true, content: binary },
          responses: {
            200: { description: 'Accepted into the round', content: json('UpdateReceipt') },
            400: ERRORS.badRequest,
            404: ERRORS.notFound,
            409: error('The base version is no longer current (`STALE_UPDATE`): download the model and train again'),
            413: ERRORS.tooLarge,
          },
        },
      },
      [ROUTES.shopperEvents]: {
        get: {
          summary: 'The signed-in shopper’s synced events after a version, a page of whole writes at a time',
          security: shopper,
          parameters: [{ name: 'after', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } }],
          responses: {
            200: { description: 'Events', content: json('ShopperEventsPage') },
            400: ERRORS.badRequest,
            401: ERRORS.unauthorized,
            403: ERRORS.forbidden,
          },
        },
        post: {
          summary: 'Add events to the signed-in shopper’s log; known ids are skipped',
          security: shopper,
          ...EVENTS_WRITE,
        },
      },
      [ROUTES.shopperRemovals]: {
        post: {
          summary: 'Remove events from the signed-in shopper’s log on every channel (a profile correction)',
          description:
            'Devices read the removals with the log’s pages (`removed`) and delete the events; an id removed is never added again.',
          security: shopper,
          requestBody: { required: true, content: json('ShopperRemovalsBody') },
          responses: {
            200: { description: 'Removed', content: json('ShopperRemovalsReceipt') },
            400: ERRORS.badRequest,
            401: ERRORS.unauthorized,
            403: ERRORS.forbidden,
            413: ERRORS.tooLarge,
          },
        },
      },
      [ROUTES.shopper]: {
        delete: {
          summary: 'Forget everything the server keeps about the signed-in shopper',
          security: shopper,
          responses: { 204: { description: 'Forgotten' }, 401: ERRORS.unauthorized, 403: ERRORS.forbidden },
        },
      },
      [ROUTES.channelEvents.replace(':userId', '{userId}')]: {
        post: {
          summary: 'Events from a channel without the SDK (a till, a call centre), for one shopper',
          description:
            'Events without `channel` take the query’s; events without `sessionId` belong to that channel’s visit of their day.',
          security: admin,
          parameters: [
            { name: 'userId', in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: 200 } },
            { name: 'channel', in: 'query', schema: { type: 'string', default: 'pos' } },
          ],
          ...EVENTS_WRITE,
        },
      },
    },
  };
}
