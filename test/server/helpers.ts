import * as v from 'valibot';
import { expect } from 'vitest';
import type { ItemInput } from '../../src/core/event.js';
import { type ModelConfig, modelSpec } from '../../src/core/model/model-spec.js';
import { tensorSize, type WeightSet } from '../../src/core/model/weights.js';
import { type ModelManifest, ModelManifestSchema, UPDATE_METADATA } from '../../src/core/sync/protocol.js';
import { decodeTensors, encodeTensors, type WireDtype } from '../../src/core/sync/tensor-codec.js';
import { createSyncServer, type SyncServer, type SyncServerOptions } from '../../src/server/index.js';
import { testDatabase } from './test-database.js';

export const ADMIN_TOKEN = 'test-admin-token';
export const quiet = { info() {}, error() {} };

export { TEST_STORE, type TestDatabase, tempDir, testDatabase } from './test-database.js';

export interface Running {
  server: SyncServer;
  url: string;
  stop(): Promise<void>;
}

/**
 * A sync server listening on a free port, over a fresh database of the suite's store (embedded or
 * PostgreSQL) unless `options` names one.
 */
export async function startServer(options: SyncServerOptions = {}): Promise<Running> {
  const own = options.dataDir || options.database || options.sql ? undefined : await testDatabase();
  const server = await createSyncServer({ logger: quiet, ...own?.options, ...options });
  const { url } = await server.listen({ port: 0 });
  return {
    server,
    url,
    async stop() {
      await server.close();
      await own?.remove();
    },
  };
}

/** `count` items over two top-level categories, with categories given both ways. */
export function makeItems(count: number, prefix = 'sku'): ItemInput[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}-${i}`,
    name: `Product ${i}`,
    category: i % 2 === 0 ? 'Shoes > Running' : ['Bags', 'Totes'],
    price: 10 + i,
  }));
}

/** A weight set shaped for `config` with values from `value(index, name)`. */
export function filledWeights(config: ModelConfig, value: (index: number, name: string) => number): WeightSet {
  const weights: WeightSet = {};
  for (const spec of modelSpec(config)) {
    const data = new Float32Array(tensorSize(spec.shape));
    for (let i = 0; i < data.length; i++) data[i] = value(i, spec.name);
    weights[spec.name] = { shape: spec.shape, data };
  }
  return weights;
}

/** An update body as a device sends it. */
export function updateBody(
  delta: WeightSet,
  baseVersion: number,
  examples: number,
  kind = 'delta',
  dtype: WireDtype = 'F32',
): Uint8Array {
  const metadata = {
    [UPDATE_METADATA.baseVersion]: String(baseVersion),
    [UPDATE_METADATA.examples]: String(examples),
    [UPDATE_METADATA.kind]: kind,
  };
  return encodeTensors(delta, metadata, dtype);
}

export async function postUpdate(url: string, body: Uint8Array | string): Promise<Response> {
  return fetch(`${url}/v1/updates`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: typeof body === 'string' ? body : Buffer.from(body),
  });
}

/** `PUT /v1/catalog` with the admin token, another token, or none (`null`). */
export async function putCatalog(url: string, body: unknown, token: string | null = ADMIN_TOKEN) {
  return fetch(`${url}/v1/catalog`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
}

/** The current manifest, checked against the protocol schema. */
export async function getManifest(url: string): Promise<ModelManifest> {
  const response = await fetch(`${url}/v1/model`);
  expect(response.status).toBe(200);
  return v.parse(ModelManifestSchema, await response.json());
}

/** Downloads and decodes the weights a manifest points at. */
export async function getWeights(url: string, manifest: ModelManifest, dtype: 'F32' | 'F16' | 'I8' = 'F32') {
  const response = await fetch(`${url}${manifest.weights[dtype]}`);
  expect(response.status).toBe(200);
  return decodeTensors(new Uint8Array(await response.arrayBuffer()));
}

/** Asserts an error answer: status and the protocol's machine-readable code. */
export async function expectError(response: Response, status: number, code: string): Promise<string> {
  const body = (await response.json()) as { error?: { code?: string; message?: string } };
  expect({ status: response.status, code: body.error?.code }).toEqual({ status, code });
  expect(body.error?.message).toEqual(expect.any(String));
  return body.error?.message ?? '';
}
