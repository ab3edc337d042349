import 'fake-indexeddb/auto';
import type { IDBPDatabase } from 'idb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BATCH_MIN_EVENTS, IdbEventLog } from '../../../src/browser/idb-event-log.js';
import type { DeviceDatabase } from '../../../src/browser/idb-schema.js';
import { DeviceStorage, openDeviceDatabase } from '../../../src/browser/idb-storage.js';
import type { TrackedEvent } from '../../../src/core/event.js';

// The log's logic over fake-indexeddb; the browser tests run the same code over Chromium's IndexedDB.

let site = 0;
let db: IDBPDatabase<DeviceDatabase>;
let log: IdbEventLog;

beforeEach(async () => {
  db = await openDeviceDatabase(`log-${site++}`, () => {});
  log = new IdbEventLog(db);
});
afterEach(() => db.close());

function view(n: number, anonymousId = 'anon-1', userId?: string): TrackedEvent {
  return {
    type: 'view',
    item: { id: `sku-${n}` },
    id: `event-${n}`,
    time: 1_000 + n,
    sessionId: 'session',
    anonymousId,
    ...(userId ? { userId } : {}),
    channel: 'web',
  } as TrackedEvent;
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const ids = (events: TrackedEvent[]) => events.map((event) => event.id);

async function compactAll(): Promise<number> {
  let rounds = 0;
  while (await log.compact()) rounds++;
  return rounds + 1;
}

describe('a burst of events', () => {
  it('is written as one batch record, counted and read with the rest before it is compacted', async () => {
    await log.append(range(0, 3).map((n) => view(n)));
    const burst = range(3, 3 + 250).map((n) =>
      view(n, n % 2 === 0 ? 'anon-1' : 'anon-2', n % 5 === 0 ? 'ann' : undefined),
    );
    expect(burst.length).toBeGreaterThanOrEqual(BATCH_MIN_EVENTS);
    expect(await log.append(burst)).toEqual({ written: 250, duplicates: 0 });

    expect(await db.count('events')).toBe(3);
    expect(await db.count('batches')).toBe(1);
    expect(await log.count()).toBe(253);
    expect(ids(await log.list())).toEqual(range(0, 253).map((n) => `event-${n}`));
    const ann = await log.list({ userId: 'ann' });
    expect(ids(ann)).toEqual(
      range(3, 253)
        .filter((n) => n % 5 === 0)
        .map((n) => `event-${n}`),
    );
    const anon2 = await log.list({ anonymousIds: ['anon-2'], since: 200 + 1_000 });
    expect(ids(anon2)).toEqual(
      range(200, 253)
        .filter((n) => n % 2 === 1)
        .map((n) => `event-${n}`),
    );
    expect(await log.all()).toHaveLength(253);
  });

  it('moves into the indexed store a slice per transaction, skipping ids already stored', async () => {
    await log.append([view(7)]);
    await log.append(range(0, 250).map((n) => view(n)));
    expect(await compactAll()).toBe(3);
    expect(await db.count('batches')).toBe(0);
    expect(await db.count('events')).toBe(250);
    expect(await log.count()).toBe(250);
    expect(ids(await log.list())).toEqual(range(0, 250).map((n) => `event-${n}`));
    expect(await log.compact()).toBe(false);
  });

  it('is evicted with the rest: the oldest stored events first, then whole batches', async () => {
    await log.append(range(0, 10).map((n) => view(n)));
    await log.append(range(10, 110).map((n) => view(n)));
    await log.append(range(110, 210).map((n) => view(n)));

    expect(await log.evict({ before: Number.NEGATIVE_INFINITY, keep: 205 })).toBe(5);
    expect(ids(await log.list()).slice(0, 2)).toEqual(['event-5', 'event-6']);
    expect(await log.evict({ before: Number.NEGATIVE_INFINITY, keep: 100 })).toBe(105);
    expect(ids(await log.list())).toEqual(range(110, 210).map((n) => `event-${n}`));
    expect(await log.count()).toBe(100);

    await log.clear();
    expect(await log.count()).toBe(0);
    expect(await db.count('batches')).toBe(0);
  });
});

describe('the device storage', () => {
  it('moves a burst into the indexed store by itself, when idle', async () => {
    const storage = new DeviceStorage('compacts-itself', { onFallback: () => {} });
    await storage.log.append(range(0, 150).map((n) => view(n)));
    const raw = await openDeviceDatabase('compacts-itself', () => {});
    try {
      await vi.waitFor(async () => expect(await raw.count('batches')).toBe(0), { timeout: 5000, interval: 20 });
      expect(await raw.count('events')).toBe(150);
      expect(await storage.log.count()).toBe(150);
    } finally {
      raw.close();
    }
  });
});
