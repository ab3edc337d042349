import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from '@playwright/test';
import type { PersonalizerStatus } from '../../src/core/personalizer/personalizer.js';
import { test as demoTest } from './demo-server.js';

/**
 * Helpers for the storage and consent tests: a static shop that serves the built files (no sync
 * server, so a test starts in milliseconds), bare pages that load the script-tag bundle with the
 * attributes a test asks for, and raw IndexedDB access that does not go through the SDK.
 */

interface Shop {
  /**
   * Origin of a static server, laid out as the demo: `/sdk/*` is `dist/`, the rest is `test/e2e/shop/` (the
   * shop's pages). There is no sync server behind it: a call to `/v1/*` answers 404.
   */
  url: string;
}

const dist = fileURLToPath(new URL('../../dist/', import.meta.url));
const shop = fileURLToPath(new URL('shop/', import.meta.url));
const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
  '.json': 'application/json',
  '.html': 'text/html',
  '.css': 'text/css',
};

/** The demo fixtures plus `shop`, one static server per worker. */
export const test = demoTest.extend<object, { shop: Shop }>({
  shop: [
    // biome-ignore lint/correctness/noEmptyPattern: Playwright's fixture signature.
    async ({}, use) => {
      const server = createServer(async (request, response) => {
        const path = new URL(request.url ?? '/', 'http://localhost').pathname;
        const [root, relative] = path.startsWith('/sdk/')
          ? [dist, path.slice(5)]
          : [shop, path.slice(1) || 'index.html'];
        const file = normalize(join(root, relative));
        if (!file.startsWith(root) || path.startsWith('/v1/')) {
          response.writeHead(404).end();
          return;
        }
        try {
          const body = await readFile(file);
          response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
        } catch {
          response.writeHead(404).end();
        }
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      await use({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
      await new Promise((resolve) => server.close(resolve));
    },
    { scope: 'worker' },
  ],
});

export { expect } from './demo-server.js';

/** Serves `/<name>.html` on `origin`: the SDK's script tag and nothing else. */
export async function serveSdkPage(
  page: Page,
  origin: string,
  name: string,
  attributes: Record<string, string>,
): Promise<string> {
  const tag = Object.entries({ 'train-after': '0', widgets: 'false', capture: 'false', ...attributes })
    .map(([key, value]) => `data-${key}="${value}"`)
    .join(' ');
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${name}</title>
<script src="/sdk/omnipersona.js" ${tag}></script></head><body><h1>${name}</h1></body></html>`;
  const url = `${origin}/${name}.html`;
  await page.context().route(url, (route) => route.fulfill({ contentType: 'text/html', body: html }));
  return url;
}

/** Serves an empty page on `origin`, to reach its IndexedDB without the SDK. */
export async function openBlankPage(page: Page, origin: string): Promise<void> {
  const url = `${origin}/blank.html`;
  await page
    .context()
    .route(url, (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>blank</title>' }));
  await page.goto(url);
}

export function status(page: Page): Promise<PersonalizerStatus> {
  return page.evaluate(async () => {
    const op = window.omnipersona;
    if (!op?.status) throw new Error('The SDK is not loaded');
    return op.status();
  });
}

/** Tracks product views through the SDK, all in one task (as a page would, in a burst). */
export function trackViews(page: Page, ids: string[]): Promise<void> {
  return page.evaluate((list) => {
    for (const id of list)
      window.omnipersona?.track?.({ type: 'view', item: { id, name: id, category: 'Coffee', price: 12 } });
  }, ids);
}

/** What a database holds, read with the raw IndexedDB API: its version, stores, indexes and records. */
export interface RawDatabase {
  version: number;
  stores: Record<string, { indexes: string[]; keys: string[]; values: unknown[] }>;
}

/** Reads a whole database raw; undefined when it does not exist (without creating it). */
export function readDatabase(page: Page, name: string): Promise<RawDatabase | undefined> {
  return page.evaluate(async (dbName) => {
    if (!(await indexedDB.databases()).some((db) => db.name === dbName)) return undefined;
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open(dbName);
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const result: RawDatabase = { version: db.version, stores: {} };
    for (const storeName of Array.from(db.objectStoreNames)) {
      const store = db.transaction(storeName).objectStore(storeName);
      const [keys, values] = await Promise.all(
        [store.getAllKeys(), store.getAll()].map(
          (request) =>
            new Promise<unknown[]>((resolve, reject) => {
              request.onsuccess = () => resolve(request.result as unknown[]);
              request.onerror = () => reject(request.error);
            }),
        ),
      );
      result.stores[storeName] = {
        indexes: Array.from(store.indexNames),
        keys: (keys ?? []).map(String),
        values: values ?? [],
      };
    }
    db.close();
    return result;
  }, name);
}

/** Stored events, oldest first, straight from IndexedDB. */
export async function rawEvents(
  page: Page,
  site: string,
): Promise<
  Array<{ id: string; time: number; type: string; item?: { id: string }; anonymousId: string; userId?: string }>
> {
  const db = await readDatabase(page, `omnipersona:${site}`);
  const events = (db?.stores.events?.values ?? []) as Array<{
    id: string;
    time: number;
    type: string;
    anonymousId: string;
  }>;
  return events.sort((a, b) => a.time - b.time);
}

/**
 * Creates a version 1 device database with the raw API, as the first release of the SDK left it:
 * `events` keyed by id with a `time` index, and `kv`; then fills it.
 */
export function createVersion1Database(
  page: Page,
  site: string,
  events: unknown[],
  kv: Record<string, unknown>,
): Promise<void> {
  return page.evaluate(
    ({ name, events, kv }) =>
      new Promise<void>((resolve, reject) => {
        const open = indexedDB.open(name, 1);
        open.onupgradeneeded = () => {
          open.result.createObjectStore('events', { keyPath: 'id' }).createIndex('time', 'time');
          open.result.createObjectStore('kv');
        };
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const tx = db.transaction(['events', 'kv'], 'readwrite');
          for (const event of events) tx.objectStore('events').put(event);
          for (const [key, value] of Object.entries(kv)) tx.objectStore('kv').put(value, key);
          tx.oncomplete = () => {
            db.close();
            resolve();
          };
          tx.onerror = () => reject(tx.error);
        };
      }),
    { name: `omnipersona:${site}`, events, kv },
  );
}

/** A stored event as version 1 wrote it. */
export function storedView(id: string, time: number, anonymousId: string, itemId = id, userId?: string) {
  return {
    id,
    type: 'view',
    time,
    channel: 'web',
    anonymousId,
    sessionId: 'session-old',
    ...(userId ? { userId } : {}),
    item: { id: itemId, name: itemId, category: 'Coffee', price: 12 },
  };
}
