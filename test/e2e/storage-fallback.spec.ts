import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { watchPage } from './page-problems.js';
import { expect, rawEvents, serveSdkPage, status, test, trackViews } from './storage-helpers.js';

/** Ids of the current shopper's recently viewed items, newest first, through the SDK. */
function recentlyViewed(page: Page): Promise<string[] | undefined> {
  return page.evaluate(() =>
    window.omnipersona
      ?.recommend?.({ kind: 'recently-viewed', count: 50 })
      .then((picks) => picks.map((pick) => pick.item.id)),
  );
}

const ids = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${i + 1}`);

test.describe('memory fallback', () => {
  const UNAVAILABLE: Array<{ name: string; script: () => void }> = [
    {
      name: 'IndexedDB is undefined',
      script: () => Object.defineProperty(window, 'indexedDB', { configurable: true, value: undefined }),
    },
    {
      name: 'opening IndexedDB is refused',
      script: () => {
        IDBFactory.prototype.open = () => {
          throw new DOMException('The user denied permission to access the database', 'SecurityError');
        };
      },
    },
  ];
  for (const { name, script } of UNAVAILABLE) {
    test(`when ${name}, events live in memory and status() says so`, async ({ page, shop }) => {
      const problems = watchPage(page);
      await page.addInitScript(script);
      await page.goto(await serveSdkPage(page, shop.url, 'no-idb', { site: 'no-idb' }));
      await trackViews(page, ['a', 'b', 'c']);
      await expect.poll(async () => (await status(page)).queued).toBe(0);
      expect(await status(page)).toMatchObject({ storage: 'memory', events: 3 });
      expect(await recentlyViewed(page)).toEqual(['c', 'b', 'a']);
      expect(problems.pageErrors).toEqual([]);
      expect(problems.warnings).toEqual([expect.stringMatching(/IndexedDB/u)]);
    });
  }

  test('when the database is deleted under the SDK, it reconnects and loses nothing queued', async ({ page, shop }) => {
    const problems = watchPage(page);
    await page.goto(await serveSdkPage(page, shop.url, 'deleted', { site: 'deleted' }));
    await trackViews(page, ['before']);
    await expect.poll(async () => (await rawEvents(page, 'deleted')).length).toBe(1);
    // Another tab (or the shopper clearing site data) deletes the database: the SDK's connection must not block it.
    const deleted = await page.evaluate(
      () =>
        new Promise<string>((resolve) => {
          const request = indexedDB.deleteDatabase('omnipersona:deleted');
          request.onsuccess = () => resolve('deleted');
          request.onblocked = () => resolve('blocked');
          request.onerror = () => resolve(`error ${request.error?.name}`);
        }),
    );
    expect(deleted).toBe('deleted');
    await trackViews(page, ['after-1', 'after-2']);
    await expect.poll(async () => (await status(page)).queued).toBe(0);
    expect((await rawEvents(page, 'deleted')).map((event) => event.item?.id)).toEqual(['after-1', 'after-2']);
    expect((await status(page)).storage).toBe('indexeddb');
    expect(problems.all).toEqual([]);
  });

  test('when writes start failing after opening, memory takes over with everything stored and queued', async ({
    page,
    shop,
  }) => {
    const problems = watchPage(page);
    await page.addInitScript(() => {
      const original = IDBDatabase.prototype.transaction;
      IDBDatabase.prototype.transaction = function (this: IDBDatabase, ...args: Parameters<typeof original>) {
        if ((window as unknown as { __breakWrites?: boolean }).__breakWrites && args[1] === 'readwrite') {
          throw new DOMException('The disk failed (injected by the test)', 'UnknownError');
        }
        return original.apply(this, args);
      } as typeof original;
    });
    await page.goto(await serveSdkPage(page, shop.url, 'failing', { site: 'failing' }));
    await trackViews(page, ids('stored', 3));
    await expect.poll(async () => (await rawEvents(page, 'failing')).length).toBe(3);

    await page.evaluate(() => {
      (window as unknown as { __breakWrites: boolean }).__breakWrites = true;
    });
    await trackViews(page, ids('queued', 4));
    await expect.poll(async () => (await status(page)).queued).toBe(0);
    expect(await status(page)).toMatchObject({ storage: 'memory', events: 7 });
    expect(await recentlyViewed(page)).toEqual([...ids('stored', 3), ...ids('queued', 4)].reverse());
    expect(problems.pageErrors).toEqual([]);
    expect(problems.warnings).toEqual([expect.stringMatching(/The disk failed \(injected by the test\)/u)]);
  });
});

test.describe('a full quota', () => {
  test('evicts the oldest events and writes the whole batch', async ({ page, shop }) => {
    const problems = watchPage(page);
    // A tiny quota over the events store: adding throws QuotaExceededError while it holds `limit` events.
    await page.addInitScript(() => {
      const quota = { used: 0, limit: Number.POSITIVE_INFINITY, refused: 0 };
      (window as unknown as { __quota: typeof quota }).__quota = quota;
      const { add, delete: remove } = IDBObjectStore.prototype;
      IDBObjectStore.prototype.add = function (this: IDBObjectStore, ...args: Parameters<typeof add>) {
        if (this.name !== 'events') return add.apply(this, args);
        if (quota.used >= quota.limit) {
          quota.refused++;
          throw new DOMException('The quota has been exceeded (injected by the test)', 'QuotaExceededError');
        }
        // Counted when asked for, given back if the transaction does not commit.
        quota.used++;
        this.transaction.addEventListener('abort', () => quota.used--);
        return add.apply(this, args);
      };
      IDBObjectStore.prototype.delete = function (this: IDBObjectStore, ...args: Parameters<typeof remove>) {
        const request = remove.apply(this, args);
        if (this.name === 'events') request.addEventListener('success', () => quota.used--);
        return request;
      };
    });
    await page.goto(await serveSdkPage(page, shop.url, 'quota', { site: 'quota' }));
    await trackViews(page, ids('old', 20));
    await expect.poll(async () => (await rawEvents(page, 'quota')).length).toBe(20);

    await page.evaluate(() => {
      const quota = (window as unknown as { __quota: { limit: number; used: number } }).__quota;
      quota.used = 20;
      quota.limit = 26;
    });
    await trackViews(page, ids('new', 8));
    await expect.poll(async () => (await status(page)).queued).toBe(0);

    const stored = (await rawEvents(page, 'quota')).map((event) => event.item?.id);
    // 20 + 8 do not fit in 26: the two oldest go (10 % of 20), then the batch is written whole.
    expect(stored).toEqual([...ids('old', 20).slice(2), ...ids('new', 8)]);
    expect(await page.evaluate(() => (window as unknown as { __quota: { refused: number } }).__quota.refused)).toBe(1);
    expect(await status(page)).toMatchObject({ storage: 'indexeddb', events: 26 });
    expect(problems.all).toEqual([]);
  });

  test('a real quota abort keeps every event: the batch goes to memory with the stored history', async ({
    playwright,
    userAgent,
    shop,
  }, testInfo) => {
    // Chromium applies a quota override only to the default (persistent) profile.
    const context = await playwright.chromium.launchPersistentContext(
      mkdtempSync(join(tmpdir(), 'omnipersona-quota-')),
      {
        ...testInfo.project.use.launchOptions,
        ...(userAgent ? { userAgent } : {}),
      },
    );
    try {
      await context.addInitScript(() => {
        Object.defineProperty(Navigator.prototype, 'webdriver', { configurable: true, get: () => false });
      });
      const page = context.pages()[0] ?? (await context.newPage());
      const problems = watchPage(page);
      // A small quota for the shop's origin, set before it stores anything (Chromium caches it per origin).
      const cdp = await context.newCDPSession(page);
      await cdp.send('Storage.overrideQuotaForOrigin', { origin: shop.url, quotaSize: 150_000 });
      await page.goto(await serveSdkPage(page, shop.url, 'real-quota', { site: 'real-quota' }));
      await trackViews(page, ids('stored', 3));
      await expect.poll(async () => (await rawEvents(page, 'real-quota')).length).toBe(3);

      // Another database on the origin uses up the rest, down to the last few bytes.
      const filled = await page.evaluate(async () => {
        const db = await new Promise<IDBDatabase>((resolve) => {
          const open = indexedDB.open('filler', 1);
          open.onupgradeneeded = () => open.result.createObjectStore('blobs');
          open.onsuccess = () => resolve(open.result);
        });
        const outcomes: string[] = [];
        let key = 0;
        for (const size of [20_000, 2000, 200]) {
          for (;;) {
            const outcome = await new Promise<string>((resolve) => {
              const tx = db.transaction('blobs', 'readwrite');
              tx.objectStore('blobs').put('x'.repeat(size), key++);
              tx.oncomplete = () => resolve('ok');
              tx.onabort = () => resolve(tx.error?.name ?? 'aborted');
            });
            if (outcome !== 'ok') {
              outcomes.push(outcome);
              break;
            }
            if (key > 1000) return ['never full'];
          }
        }
        return outcomes;
      });
      expect(filled).toEqual(['QuotaExceededError', 'QuotaExceededError', 'QuotaExceededError']);

      await trackViews(page, ids('queued', 5));
      await expect.poll(async () => (await status(page)).queued).toBe(0);
      expect(await status(page)).toMatchObject({ storage: 'memory', events: 8 });
      expect(await recentlyViewed(page)).toEqual([...ids('stored', 3), ...ids('queued', 5)].reverse());
      expect(problems.pageErrors).toEqual([]);
      expect(problems.warnings).toEqual([
        expect.stringMatching(/IndexedDB is full: 5 events did not fit after evicting the 2 oldest/u),
      ]);
    } finally {
      await context.close();
    }
  });
});
