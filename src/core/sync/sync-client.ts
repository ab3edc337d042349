import * as v from 'valibot';
import type { Transport, TransportRequest, TransportResponse } from '../adapters.js';
import { OmniPersonaError, type OmniPersonaErrorCode, toOmniPersonaError } from '../errors.js';
import type { WeightSet } from '../model/weights.js';
import { isFactored } from './low-rank.js';
import {
  type CatalogDocument,
  CatalogDocumentSchema,
  type ModelManifest,
  ModelManifestSchema,
  ROUTES,
  type ShopperEventsPage,
  ShopperEventsPageSchema,
  type ShopperEventsReceipt,
  ShopperEventsReceiptSchema,
  type ShopperRemovalsReceipt,
  ShopperRemovalsReceiptSchema,
  type SyncedEvent,
  UPDATE_METADATA,
  type UpdateReceipt,
  UpdateReceiptSchema,
} from './protocol.js';
import { decodeTensors, encodeTensors } from './tensor-codec.js';

/** The device side of the sync protocol: every response is validated before the SDK uses it. */
export class SyncClient {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  async catalog(): Promise<CatalogDocument> {
    const response = await this.#send({ method: 'GET', path: ROUTES.catalog });
    return parseJson(response, CatalogDocumentSchema, 'catalog');
  }

  /** The current global model's manifest, or `undefined` when it is still the one tagged `etag`. */
  async manifest(etag?: string): Promise<{ manifest: ModelManifest; etag?: string } | undefined> {
    const headers: Record<string, string> = etag ? { 'if-none-match': etag } : {};
    const response = await this.#send({ method: 'GET', path: ROUTES.model, headers }, [304]);
    if (response.status === 304) return undefined;
    const manifest = parseJson(response, ModelManifestSchema, 'model manifest');
    const tag = response.headers.etag;
    return tag === undefined ? { manifest } : { manifest, etag: tag };
  }

  async weights(path: string): Promise<WeightSet> {
    const response = await this.#send({ method: 'GET', path });
    return decodeTensors(response.body).tensors;
  }

  /**
   * Sends the difference between the device's weights and the global version it started from. A
   * factored one (`low-rank.ts`) travels as int8, rounded stochastically so that the server's mean
   * of many is unbiased; a dense one as float32.
   */
  async pushUpdate(
    delta: WeightSet,
    baseVersion: number,
    examples: number,
  ): Promise<{ receipt: UpdateReceipt; bytes: number }> {
    const factored = isFactored(delta);
    const metadata = {
      [UPDATE_METADATA.kind]: factored ? 'low-rank' : 'delta',
      [UPDATE_METADATA.baseVersion]: String(baseVersion),
      [UPDATE_METADATA.examples]: String(examples),
    };
    const body = factored
      ? encodeTensors(delta, metadata, 'I8', { random: Math.random })
      : encodeTensors(delta, metadata);
    const response = await this.#send({
      method: 'POST',
      path: ROUTES.updates,
      headers: { 'content-type': 'application/octet-stream' },
      body,
    });
    return { receipt: await parseJson(response, UpdateReceiptSchema, 'update receipt'), bytes: body.length };
  }

  /**
   * Adds events to the signed-in shopper's synced log (at most `SHOPPER_EVENTS_PER_REQUEST`);
   * `keepalive` lets the request outlive the page (its body must then stay under 64 KiB).
   */
  async pushShopperEvents(
    token: string,
    events: readonly SyncedEvent[],
    keepalive = false,
  ): Promise<ShopperEventsReceipt> {
    const response = await this.#send({
      method: 'POST',
      path: ROUTES.shopperEvents,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
      ...(keepalive ? { keepalive } : {}),
    });
    return parseJson(response, ShopperEventsReceiptSchema, 'shopper events receipt');
  }

  /** The signed-in shopper's synced events stored after version `after`, one page. */
  async shopperEvents(token: string, after: number): Promise<ShopperEventsPage> {
    const response = await this.#send({
      method: 'GET',
      path: `${ROUTES.shopperEvents}?after=${after}`,
      headers: { authorization: `Bearer ${token}` },
    });
    return parseJson(response, ShopperEventsPageSchema, 'shopper events');
  }

  /** Deletes the signed-in shopper's synced log on the server. */
  /** Removes events from the signed-in shopper's log on every channel (at most `SHOPPER_EVENTS_PER_REQUEST`). */
  async removeShopperEvents(token: string, ids: readonly string[]): Promise<ShopperRemovalsReceipt> {
    const response = await this.#send({
      method: 'POST',
      path: ROUTES.shopperRemovals,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ids }),
    });
    return parseJson(response, ShopperRemovalsReceiptSchema, 'removal receipt');
  }

  async forgetShopper(token: string): Promise<void> {
    await this.#send({ method: 'DELETE', path: ROUTES.shopper, headers: { authorization: `Bearer ${token}` } });
  }

  async #send(request: TransportRequest, allowed: number[] = []): Promise<TransportResponse> {
    let response: TransportResponse;
    try {
      response = await this.#transport.request(request);
    } catch (error) {
      throw toOmniPersonaError(error, 'NETWORK', `${request.method} ${request.path} failed`);
    }
    if (response.status < 400 || allowed.includes(response.status)) return response;
    const detail = errorDetail(response);
    const code = STATUS_CODES[response.status] ?? 'SERVER';
    throw new OmniPersonaError(code, `${request.method} ${request.path} answered ${response.status}: ${detail}`);
  }
}

/** Answers the SDK tells apart; every other failure is `SERVER`. */
const STATUS_CODES: Partial<Record<number, OmniPersonaErrorCode>> = {
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  409: 'STALE_UPDATE',
};

function parseJson<T>(response: TransportResponse, schema: v.GenericSchema<unknown, T>, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(response.body));
  } catch (error) {
    throw new OmniPersonaError('SERVER', `The server's ${what} is not JSON`, { cause: error });
  }
  const result = v.safeParse(schema, json);
  if (!result.success) {
    const issue = result.issues[0];
    throw new OmniPersonaError('SERVER', `The server's ${what} is malformed: ${issue?.message ?? 'rejected'}`);
  }
  return result.output;
}

function errorDetail(response: TransportResponse): string {
  try {
    const body = JSON.parse(new TextDecoder().decode(response.body)) as { error?: { code?: string; message?: string } };
    return `${body.error?.code ?? 'ERROR'} ${body.error?.message ?? ''}`.trim();
  } catch {
    return 'no error body';
  }
}
