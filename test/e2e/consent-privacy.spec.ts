import type { Page, Request } from '@playwright/test';
import { watchPage } from './page-problems.js';
import { expect, openBlankPage, readDatabase, serveSdkPage, status, test, trackViews } from './storage-helpers.js';

/** Serves the demo shop with its script tag's consent (and extra attributes) replaced. */
async function serveDemoWith(page: Page, url: string, attributes: Record<string, string>): Promise<void> {
  await page.route(`${url}/`, async (route) => {
    const response = await route.fetch();
    const html = await response.text();
    const tag = /<script\b[^>]*\bsrc="\/sdk\/omnipersona\.js"[^>]*>/u.exec(html)?.[0];
    if (!tag) throw new Error('the test shop’s index.html has no SDK script tag');
    let rewritten = tag;
    for (const [name, value] of Object.entries(attributes)) {
      const attribute = new RegExp(`\\sdata-${name}="[^"]*"`, 'u');
      rewritten = attribute.test(rewritten)
        ? rewritten.replace(attribute, ` data-${name}="${value}"`)
        : rewritten.replace(/>$/u, ` data-${name}="${value}">`);
    }
    await route.fulfill({ response, body: html.replace(tag, rewritten) });
  });
}

interface Sent {
  method: string;
  url: string;
  body: string | null;
  headers: Record<string, string>;
}

function record(page: Page): Sent[] {
  const sent: Sent[] = [];
  page.on('request', (request: Request) => {
    sent.push({ method: request.method(), url: request.url(), body: request.postData(), headers: request.headers() });
  });
  return sent;
}

/** Views three products through the shop's own markup (automatic capture), and signs in. */
async function shop(page: Page, url: string): Promise<string[]> {
  const catalog = (await (await fetch(`${url}/catalog.json`)).json()) as Array<{ id: string }>;
  const viewed = catalog.slice(0, 3).map((item) => item.id);
  await page.goto(`${url}/`);
  await expect.poll(() => page.evaluate(() => typeof window.omnipersona?.status)).toBe('function');
  for (const id of viewed) {
    await page.locator(`#grid [data-omnipersona-card="${id}"]`).click();
    await expect(page.locator('#product article')).toHaveAttribute('data-omnipersona-item', new RegExp(id));
  }
  await page.evaluate(() => window.omnipersona?.identify?.('shopper-42'));
  return viewed;
}

test('on-device sends nothing about the shopper: GETs of the model and catalog only', async ({ page, demo }) => {
  const problems = watchPage(page);
  const sent = record(page);
  await serveDemoWith(page, demo.url, { consent: 'on-device', 'train-after': '0', backend: 'cpu' });
  const viewed = await shop(page, demo.url);
  await expect.poll(async () => (await status(page)).events).toBeGreaterThanOrEqual(3);
  const report = await page.evaluate(() => window.omnipersona?.sync?.());
  expect(report).toMatchObject({ pushed: false });
  await expect(page.locator('#for-you[data-omnipersona-state="ready"]')).toBeVisible();

  const stored = await page.evaluate(async () => {
    const open = indexedDB.open('omnipersona:demo');
    const db = await new Promise<IDBDatabase>((resolve) => {
      open.onsuccess = () => resolve(open.result);
    });
    const request = db.transaction('kv').objectStore('kv').get('identity');
    return new Promise<{ anonymousId: string; sessionId: string }>((resolve) => {
      request.onsuccess = () => resolve(request.result);
    });
  });
  const secrets = [stored.anonymousId, stored.sessionId, 'shopper-42', ...viewed];
  expect(sent.filter((request) => request.url.includes('/v1/')).length).toBeGreaterThan(0);
  for (const request of sent) {
    expect(request.method, request.url).toBe('GET');
    expect(request.body, request.url).toBeNull();
    const wire = `${request.url} ${JSON.stringify(request.headers)}`;
    for (const secret of secrets) expect(wire, `${request.url} carries ${secret}`).not.toContain(secret);
  }
  const api = sent.filter((request) => new URL(request.url).pathname.startsWith('/v1/'));
  expect([...new Set(api.map((request) => new URL(request.url).pathname.replace(/\/[^/]*$/u, '/…')))].sort()).toEqual(
    expect.arrayContaining(['/v1/…']),
  );
  for (const request of api) expect(new URL(request.url).pathname).toMatch(/^\/v1\/(model|catalog)(\/|$)/u);
  expect(problems.all).toEqual([]);
});

test('none sends nothing and stores nothing: no sync server call, no model download, no database', async ({
  page,
  shop: server,
}) => {
  const problems = watchPage(page);
  const sent = record(page);
  // The demo shop from a static server: any call to its endpoint would show (and fail) here.
  await serveDemoWith(page, server.url, { consent: 'none' });
  await shop(page, server.url);
  expect(await page.evaluate(() => window.omnipersona?.sync?.())).toMatchObject({ skipped: 'consent' });
  // Widgets still answer (with nothing personal to show).
  await expect(page.locator('#for-you')).toHaveAttribute('data-omnipersona-state', 'ready');
  expect(await status(page)).toMatchObject({ consent: 'none', events: 0, queued: 0 });

  const paths = sent.map((request) => `${request.method} ${new URL(request.url).pathname}`);
  expect(paths.filter((path) => !path.startsWith('GET '))).toEqual([]);
  expect(paths.filter((path) => /\/v1\/|omnipersona-ml|\/sdk\/ml\//u.test(path))).toEqual([]);
  expect(await page.evaluate(async () => (await indexedDB.databases()).map((db) => db.name))).toEqual([]);
  expect(await page.evaluate(() => [localStorage.length, sessionStorage.length, document.cookie])).toEqual([0, 0, '']);
  expect(problems.all).toEqual([]);
});

test('forget() leaves nothing about the shopper on the device', async ({ page, shop: server }) => {
  const problems = watchPage(page);
  await page.goto(await serveSdkPage(page, server.url, 'forget', { site: 'forget', backend: 'cpu' }));
  await trackViews(page, ['coffee-1', 'coffee-2', 'coffee-3', 'coffee-4']);
  await page.evaluate(() => window.omnipersona?.identify?.('shopper-42'));
  const trained = await page.evaluate(() => window.omnipersona?.train?.());
  expect(trained?.examples).toBe(3);
  const before = await readDatabase(page, 'omnipersona:forget');
  expect(before?.stores.events?.keys).toHaveLength(4);
  expect(before?.stores.kv?.keys.sort()).toEqual(['identity', 'model']);
  const identity = before?.stores.kv?.values[before.stores.kv.keys.indexOf('identity')] as { anonymousId: string };
  const anonymousId = identity.anonymousId;

  await trackViews(page, ['queued-1']);
  await page.evaluate(() => window.omnipersona?.forget?.());
  // The database itself is gone, and the page holds nothing else.
  expect(await readDatabase(page, 'omnipersona:forget')).toBeUndefined();
  expect(await page.evaluate(() => [localStorage.length, sessionStorage.length, document.cookie])).toEqual([0, 0, '']);
  expect(await status(page)).toMatchObject({ events: 0, queued: 0, catalogSize: 0 });
  expect(await page.evaluate(() => window.omnipersona?.profile?.().then((profile) => profile.events))).toBe(0);
  const other = await page.context().newPage();
  await openBlankPage(other, server.url);
  expect(await readDatabase(other, 'omnipersona:forget')).toMatchObject({ stores: { events: { keys: [] } } });

  // The SDK keeps working, as a new anonymous shopper.
  await trackViews(page, ['after']);
  await expect.poll(async () => (await readDatabase(page, 'omnipersona:forget'))?.stores.events?.keys.length).toBe(1);
  const after = (await readDatabase(page, 'omnipersona:forget'))?.stores.events?.values[0] as {
    anonymousId: string;
    userId?: string;
  };
  expect(after.anonymousId).not.toBe(anonymousId);
  expect(after.userId).toBeUndefined();
  expect(problems.all).toEqual([]);
});

for (const { signal, script } of [
  {
    signal: 'gpc',
    script: () => Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }),
  },
  { signal: 'dnt', script: () => Object.defineProperty(Navigator.prototype, 'doNotTrack', { get: () => '1' }) },
] as const) {
  test(`${signal === 'gpc' ? 'Global Privacy Control' : 'Do-Not-Track'} caps consent at on-device`, async ({
    page,
    shop: server,
  }) => {
    await page.addInitScript(script);
    await page.goto(await serveSdkPage(page, server.url, signal, { site: signal, consent: 'synced' }));
    expect(await status(page)).toMatchObject({ consent: 'on-device', consentCappedBy: signal });
    await page.evaluate(() => window.omnipersona?.setConsent?.('federated'));
    expect((await status(page)).consent).toBe('on-device');
    // Still personalised on the device.
    await trackViews(page, ['a']);
    await expect.poll(async () => (await status(page)).events).toBe(1);
  });
}
