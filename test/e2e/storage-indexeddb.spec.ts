import { watchPage } from './page-problems.js';
import {
  createVersion1Database,
  expect,
  openBlankPage,
  rawEvents,
  readDatabase,
  serveSdkPage,
  status,
  storedView,
  test,
  trackViews,
} from './storage-helpers.js';

test('track() only queues; a burst of events is written in one transaction', async ({ page, shop }) => {
  const problems = watchPage(page);
  // Records which transaction each event was written in.
  await page.addInitScript(() => {
    const transactions = new Set<IDBTransaction>();
    (window as unknown as { __eventWrites: Set<IDBTransaction> }).__eventWrites = transactions;
    for (const method of ['add', 'put'] as const) {
      const original = IDBObjectStore.prototype[method];
      IDBObjectStore.prototype[method] = function (this: IDBObjectStore, ...args: Parameters<typeof original>) {
        if (this.name === 'events') transactions.add(this.transaction);
        return original.apply(this, args);
      };
    }
  });
  await page.goto(await serveSdkPage(page, shop.url, 'batching', { site: 'batching' }));
  await expect.poll(async () => (await status(page)).storage).toBe('indexeddb');

  const ids = Array.from({ length: 20 }, (_, i) => `sku-${i}`);
  const queued = await page.evaluate((list) => {
    for (const id of list) window.omnipersona?.track?.({ type: 'view', item: { id, category: 'Coffee', price: 3 } });
    return window.omnipersona?.status?.().then((s) => ({ queued: s.queued, events: s.events }));
  }, ids);
  expect(queued).toEqual({ queued: 20, events: 0 });

  await expect.poll(async () => (await rawEvents(page, 'batching')).length).toBe(20);
  expect((await rawEvents(page, 'batching')).map((event) => event.item?.id)).toEqual(ids);
  expect(await page.evaluate(() => (window as unknown as { __eventWrites: Set<unknown> }).__eventWrites.size)).toBe(1);
  expect(await status(page)).toMatchObject({ queued: 0, events: 20 });
  expect(problems.all).toEqual([]);
});

test('a page closed right after tracking keeps its events: they are written on pagehide', async ({
  page,
  context,
  shop,
}) => {
  // Turn the SDK's 250 ms batching timer off, so that only the page lifecycle can write the events.
  await context.addInitScript(() => {
    const original = window.setTimeout;
    window.setTimeout = ((handler: TimerHandler, timeout?: number, ...rest: unknown[]) =>
      timeout === 250 ? 0 : original(handler, timeout, ...rest)) as typeof window.setTimeout;
  });
  const url = await serveSdkPage(page, shop.url, 'closing', { site: 'closing' });
  await page.goto(url);
  await expect.poll(async () => (await status(page)).storage).toBe('indexeddb');

  // Hidden (a tab switch, a phone locked): queued events are written.
  await trackViews(page, ['hidden-1']);
  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await expect.poll(async () => (await rawEvents(page, 'closing')).length).toBe(1);

  // Closed at once after tracking.
  await trackViews(page, ['closed-1', 'closed-2', 'closed-3']);
  expect((await status(page)).queued).toBe(3);
  await page.close();

  const reopened = await context.newPage();
  await openBlankPage(reopened, shop.url);
  expect((await rawEvents(reopened, 'closing')).map((event) => event.item?.id)).toEqual([
    'hidden-1',
    'closed-1',
    'closed-2',
    'closed-3',
  ]);
});

test('a version 1 database is upgraded in place, through every migration: events, identity and the signed-in history survive', async ({
  page,
  shop,
}) => {
  const problems = watchPage(page);
  await openBlankPage(page, shop.url);
  const now = await page.evaluate(() => Date.now());
  await createVersion1Database(
    page,
    'upgrade',
    [
      storedView('e0', now - 4000, 'anon-previous-shopper', 'other-shoppers-item'),
      storedView('e1', now - 3000, 'anon-1', 'before-sign-in'),
      storedView('e2', now - 2000, 'anon-1', 'signed-in-1', 'ann'),
      storedView('e3', now - 1000, 'anon-1', 'signed-in-2', 'ann'),
    ],
    { identity: { anonymousId: 'anon-1', userId: 'ann', sessionId: 'session-old', lastActivity: now - 1000 } },
  );

  await page.goto(await serveSdkPage(page, shop.url, 'upgrade', { site: 'upgrade' }));
  await expect.poll(async () => (await status(page)).events).toBe(4);
  const db = await readDatabase(page, 'omnipersona:upgrade');
  expect(db?.version).toBe(3);
  expect(Object.keys(db?.stores ?? {}).sort()).toEqual(['batches', 'events', 'kv']);
  expect(db?.stores.events?.indexes.sort()).toEqual(['anonymousId', 'time', 'userId']);
  expect(db?.stores.events?.keys.sort()).toEqual(['e0', 'e1', 'e2', 'e3']);

  // The signed-in shopper's history includes what they did before signing in, not the previous shopper's.
  const recent = await page.evaluate(() =>
    window.omnipersona?.recommend?.({ kind: 'recently-viewed' }).then((picks) => picks.map((pick) => pick.item.id)),
  );
  expect(recent).toEqual(['signed-in-2', 'signed-in-1', 'before-sign-in']);

  // New events continue the stored identity.
  await trackViews(page, ['after-upgrade']);
  await expect.poll(async () => (await rawEvents(page, 'upgrade')).length).toBe(5);
  const last = (await rawEvents(page, 'upgrade')).at(-1);
  expect(last).toMatchObject({ anonymousId: 'anon-1', userId: 'ann', item: { id: 'after-upgrade' } });
  const identity = (await readDatabase(page, 'omnipersona:upgrade'))?.stores.kv?.values[0];
  expect(identity).toMatchObject({ version: 2, links: [{ anonymousId: 'anon-1', userId: 'ann' }] });
  expect(problems.all).toEqual([]);
});

test('retention: events older than 90 days go at start, and the log keeps the newest 5,000', async ({ page, shop }) => {
  await openBlankPage(page, shop.url);
  // 10 expired events and 4,995 from the last hour, written by the first schema version.
  await page.evaluate(async () => {
    const now = Date.now();
    const view = (id: string, time: number) => ({
      id,
      type: 'view',
      time,
      channel: 'web',
      anonymousId: 'anon-1',
      sessionId: 'session-old',
      item: { id, category: 'Coffee', price: 12 },
    });
    const events = [
      ...Array.from({ length: 10 }, (_, i) => view(`old-${i}`, now - 91 * 86_400_000 + i)),
      ...Array.from({ length: 4995 }, (_, i) => view(`r-${String(i).padStart(4, '0')}`, now - 3_600_000 + i)),
    ];
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('omnipersona:retention', 1);
      open.onupgradeneeded = () => {
        open.result.createObjectStore('events', { keyPath: 'id' }).createIndex('time', 'time');
        open.result.createObjectStore('kv');
      };
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const tx = db.transaction('events', 'readwrite', { durability: 'relaxed' });
    for (const event of events) tx.objectStore('events').put(event);
    await new Promise((resolve) => {
      tx.oncomplete = resolve;
    });
    db.close();
  });

  await page.goto(await serveSdkPage(page, shop.url, 'retention', { site: 'retention' }));
  // At start: the expired events are gone before anything reads them.
  await expect.poll(async () => (await status(page)).events).toBe(4995);
  await trackViews(page, ['new-1', 'new-2', 'new-3', 'new-4', 'new-5', 'new-6', 'new-7', 'new-8']);
  await expect.poll(async () => (await status(page)).queued).toBe(0);

  const ids = await page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve) => {
      const open = indexedDB.open('omnipersona:retention');
      open.onsuccess = () => resolve(open.result);
    });
    const request = db.transaction('events').objectStore('events').index('time').getAllKeys();
    return new Promise<string[]>((resolve) => {
      request.onsuccess = () => {
        db.close();
        resolve(request.result as string[]);
      };
    });
  });
  expect(ids).toHaveLength(5000);
  expect(ids.filter((id) => id.startsWith('old-'))).toEqual([]);
  // The three oldest recent events made room for the eight new ones, which are the newest.
  expect(ids.slice(0, 2)).toEqual(['r-0003', 'r-0004']);
  expect(ids.slice(-8).filter((id) => id.startsWith('r-'))).toEqual([]);
  expect(ids.filter((id) => id.startsWith('r-'))).toHaveLength(4992);
});

test('a reload records neither its product view nor an already stored event twice', async ({ page, shop }) => {
  const problems = watchPage(page);
  const url = await serveSdkPage(page, shop.url, 'reload', { site: 'reload' });
  await page.goto(url);
  // An order confirmation from ten minutes ago, with the order id as its event id.
  const order = await page.evaluate(() => ({
    type: 'purchase' as const,
    id: 'order-7',
    orderId: 'order-7',
    time: Date.now() - 600_000,
    items: [{ item: { id: 'sku-9', price: 20 }, quantity: 1 }],
  }));
  await page.evaluate((event) => window.omnipersona?.track?.(event), order);
  await trackViews(page, ['sku-1']);
  await expect.poll(async () => (await rawEvents(page, 'reload')).length).toBe(2);
  await page.reload();
  await page.evaluate((event) => window.omnipersona?.track?.(event), order);
  await trackViews(page, ['sku-1', 'sku-2']);
  await expect.poll(async () => (await status(page)).queued).toBe(0);
  expect((await rawEvents(page, 'reload')).map((event) => event.item?.id ?? event.id)).toEqual([
    'order-7',
    'sku-1',
    'sku-2',
  ]);
  expect((await status(page)).rejected).toEqual({ invalid: 0, duplicate: 2, bot: 0, anomaly: 0 });
  expect(problems.all).toEqual([]);
});

test('a burst goes to IndexedDB as one record, counts at once, moves into the indexed store when idle, and survives a close', async ({
  page,
  context,
  shop,
}) => {
  const problems = watchPage(page);
  const url = `${shop.url}/burst.html`;
  // The flood guard (30 events a second by default) would refuse most of a burst: the shop raises it.
  const config = JSON.stringify({ cleaning: { maxEventsPerSecond: 100_000 } });
  await context.route(url, (route) =>
    route.fulfill({
      contentType: 'text/html',
      body: `<!doctype html><title>burst</title><script type="application/json" data-omnipersona-config>${config}</script>
<script src="/sdk/omnipersona.js" data-site="burst" data-train-after="0" data-widgets="false" data-capture="false"></script>`,
    }),
  );
  await page.goto(url);
  await expect.poll(async () => (await status(page)).storage).toBe('indexeddb');

  const first = Array.from({ length: 300 }, (_, i) => `first-${i}`);
  await trackViews(page, first);
  await page.evaluate(() => window.omnipersona?.flush?.());
  const written = await readDatabase(page, 'omnipersona:burst');
  expect(written?.stores.batches?.values.map((batch) => (batch as unknown[]).length)).toEqual([300]);
  expect(await status(page)).toMatchObject({ events: 300, queued: 0 });

  await expect
    .poll(async () => (await readDatabase(page, 'omnipersona:burst'))?.stores.batches?.keys.length, { timeout: 15_000 })
    .toBe(0);
  expect((await rawEvents(page, 'burst')).map((event) => event.item?.id)).toEqual(first);

  // A second burst, and the tab closes at once: it is written from pagehide, as one record.
  const second = Array.from({ length: 200 }, (_, i) => `second-${i}`);
  await trackViews(page, second);
  await page.close();
  const reopened = await context.newPage();
  await reopened.goto(url);
  await expect.poll(async () => (await status(reopened)).events).toBe(500);
  await expect.poll(async () => (await rawEvents(reopened, 'burst')).length, { timeout: 15_000 }).toBe(500);
  const stored = (await rawEvents(reopened, 'burst')).map((event) => event.item?.id);
  expect(new Set(stored)).toEqual(new Set([...first, ...second]));
  expect((await status(reopened)).rejected).toMatchObject({ duplicate: 0, anomaly: 0 });
  expect(problems.pageErrors).toEqual([]);
});

test('forgetInterest() deletes a category’s events from IndexedDB, batched ones too, for good', async ({
  page,
  context,
  shop,
}) => {
  const problems = watchPage(page);
  const url = `${shop.url}/interest.html`;
  const config = JSON.stringify({ cleaning: { maxEventsPerSecond: 100_000 } });
  await context.route(url, (route) =>
    route.fulfill({
      contentType: 'text/html',
      body: `<!doctype html><title>interest</title><script type="application/json" data-omnipersona-config>${config}</script>
<script src="/sdk/omnipersona.js" data-site="interest" data-train-after="0" data-widgets="false" data-capture="false"></script>`,
    }),
  );
  await page.goto(url);
  await expect.poll(async () => (await status(page)).storage).toBe('indexeddb');
  const track = (category: string, ids: string[]) =>
    page.evaluate(
      async ({ category, ids }) => {
        for (const id of ids) window.omnipersona?.track?.({ type: 'view', item: { id, category } });
        await window.omnipersona?.flush?.();
      },
      { category, ids },
    );
  // A few coffees stored one by one, then a burst of teas, still one batch record when forgotten.
  await track('Coffee > Beans', ['coffee-1', 'coffee-2', 'coffee-3']);
  await track(
    'Tea > Green',
    Array.from({ length: 80 }, (_, i) => `tea-${i}`),
  );
  expect((await readDatabase(page, 'omnipersona:interest'))?.stores.batches?.keys.length).toBe(1);

  const removed = await page.evaluate(() => window.omnipersona?.forgetInterest?.('Tea'));
  expect(removed).toBe(80);
  expect(await status(page)).toMatchObject({ events: 3, queued: 0 });
  const profile = await page.evaluate(() => window.omnipersona?.profile?.());
  expect(profile?.categories.map((entry) => entry.category)).toEqual(['Coffee']);

  await page.reload();
  await expect.poll(async () => (await status(page)).events).toBe(3);
  await expect.poll(async () => (await rawEvents(page, 'interest')).length, { timeout: 15_000 }).toBe(3);
  expect((await rawEvents(page, 'interest')).map((event) => event.item?.id)).toEqual([
    'coffee-1',
    'coffee-2',
    'coffee-3',
  ]);
  expect(problems.pageErrors).toEqual([]);
});
