import type { Page } from '@playwright/test';
import { watchPage } from './page-problems.js';
import { expect, openBlankPage, serveSdkPage, status, test } from './storage-helpers.js';
import { readStoredEvents, type StoredEvent } from './stored-events.js';

/**
 * The script tag loads in two steps: the tracker (`omnipersona.js`), which takes calls at once, and
 * the app module (`omnipersona-app.js`), which it imports from its own URL and which validates,
 * cleans and stores them. These tests hold or break the app module to see what happens in between.
 */

const view = (id: string) => ({ type: 'view', item: { id, name: id, category: 'Tea', price: 4 } });

/** Holds every request for the app module until the returned function is called. */
async function holdAppModule(page: Page, origin: string): Promise<() => void> {
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  await page.route(`${origin}/sdk/omnipersona-app.js`, async (route) => {
    await released;
    await route.continue().catch(() => undefined);
  });
  return release;
}

const byTime = (events: StoredEvent[]) => [...events].sort((a, b) => a.time - b.time);

test('the tracker takes calls before the app module arrives; they are stored in call order, with the time and page they were made on', async ({
  page,
  shop,
}) => {
  const problems = watchPage(page);
  const release = await holdAppModule(page, shop.url);
  const url = await serveSdkPage(page, shop.url, 'tracker-first', { site: 'tracker-first' });
  await page.goto(url);

  const made = await page.evaluate(
    ([a, b, bad, c]) => {
      const op = window.omnipersona;
      const before = Date.now();
      op?.('track', a);
      op?.('track', b);
      op?.('track', bad);
      history.pushState(null, '', '/tea/next');
      op?.('track', c);
      return { before, after: Date.now() };
    },
    [view('a'), view('b'), { type: 'view', item: { id: 'bad', price: -1 } }, view('c')],
  );
  await page.waitForTimeout(300);
  expect(await readStoredEvents(page, 'tracker-first')).toEqual([]);

  release();
  await expect.poll(async () => (await status(page)).events).toBe(3);
  const stored = byTime(await readStoredEvents(page, 'tracker-first'));
  expect(stored.map((event) => event.item?.id)).toEqual(['a', 'b', 'c']);
  for (const event of stored) {
    expect(event.time).toBeGreaterThanOrEqual(made.before);
    expect(event.time).toBeLessThanOrEqual(made.after + 3);
  }
  expect(stored.map((event) => event.context?.url)).toEqual([url, url, `${shop.url}/tea/next`]);
  expect((await status(page)).rejected.invalid).toBe(1);
  expect(problems.pageErrors).toEqual([]);
  expect(problems.warnings).toEqual([expect.stringMatching(/^\[omnipersona\] Invalid event at item\.price/u)]);
  expect(await keptCalls(page)).toEqual({});
});

test('a page that goes away before its app module arrives leaves its tracking to the next page, stored once', async ({
  page,
  shop,
}) => {
  const problems = watchPage(page);
  await holdAppModule(page, shop.url);
  const first = await serveSdkPage(page, shop.url, 'leaves-early', { site: 'leaves-early' });
  await page.goto(first);
  await page.evaluate(
    ([a, b]) => {
      window.omnipersona?.('track', a);
      void window.omnipersona?.identify?.('shopper-7', { token: 'shopper-token-7' });
      window.omnipersona?.('track', b);
    },
    [view('a'), view('b')],
  );

  // Another page of the shop without the SDK: the first one's calls wait in localStorage.
  await openBlankPage(page, shop.url);
  const kept = await keptCalls(page);
  expect(Object.keys(kept)).toEqual([expect.stringMatching(/^omnipersona-calls:leaves-early:/u)]);
  // The sign-in is kept, its shopper token (a credential) is not.
  expect(JSON.stringify(kept)).toContain('shopper-7');
  expect(JSON.stringify(kept)).not.toContain('shopper-token-7');
  expect(await readStoredEvents(page, 'leaves-early')).toEqual([]);

  await page.unrouteAll({ behavior: 'ignoreErrors' });
  const second = await serveSdkPage(page, shop.url, 'leaves-early-2', { site: 'leaves-early' });
  await page.goto(second);
  await expect.poll(async () => (await status(page)).events).toBe(2);
  const stored = byTime(await readStoredEvents(page, 'leaves-early'));
  expect(stored.map((event) => [event.item?.id, event.userId, event.context?.url])).toEqual([
    ['a', undefined, first],
    ['b', 'shopper-7', first],
  ]);
  expect(await keptCalls(page)).toEqual({});

  // A reload plays nothing twice.
  await page.reload();
  await page.evaluate(() => window.omnipersona?.flush?.());
  expect((await readStoredEvents(page, 'leaves-early')).length).toBe(2);
  expect(problems.pageErrors).toEqual([]);
});

test('when the app module cannot load, the page keeps working and the tracking waits for the next page', async ({
  page,
  shop,
}) => {
  const problems = watchPage(page);
  await page.route(`${shop.url}/sdk/omnipersona-app.js`, (route) => route.fulfill({ status: 503, body: '' }));
  const first = await serveSdkPage(page, shop.url, 'app-down', { site: 'app-down' });
  await page.goto(first);
  const answers = await page.evaluate(async (event) => {
    const op = window.omnipersona;
    op?.('track', event);
    return { status: await op?.status?.(), recommend: await op?.recommend?.({ kind: 'for-you' }) };
  }, view('a'));
  expect(answers).toEqual({ status: undefined, recommend: undefined });
  expect(problems.pageErrors).toEqual([]);
  expect(problems.warnings).toEqual([expect.stringMatching(/could not load omnipersona-app\.js/u)]);

  await page.unrouteAll({ behavior: 'ignoreErrors' });
  await page.goto(await serveSdkPage(page, shop.url, 'app-down-2', { site: 'app-down' }));
  await expect.poll(async () => (await status(page)).events).toBe(1);
  expect((await readStoredEvents(page, 'app-down'))[0]?.context?.url).toBe(first);
});

test('under consent none the tracker keeps nothing when the page goes away first', async ({ page, shop }) => {
  await holdAppModule(page, shop.url);
  await page.goto(await serveSdkPage(page, shop.url, 'kept-none', { site: 'kept-none', consent: 'none' }));
  await page.evaluate((event) => window.omnipersona?.('track', event), view('a'));
  await openBlankPage(page, shop.url);
  expect(await keptCalls(page)).toEqual({});

  // A consent given before the page went away is the one that counts.
  await page.goto(await serveSdkPage(page, shop.url, 'kept-later', { site: 'kept-later', consent: 'none' }));
  await page.evaluate((event) => {
    void window.omnipersona?.setConsent?.('on-device');
    window.omnipersona?.('track', event);
  }, view('b'));
  await openBlankPage(page, shop.url);
  expect(Object.keys(await keptCalls(page))).toEqual([expect.stringMatching(/^omnipersona-calls:kept-later:/u)]);
});

/** What the tracker left in localStorage, by key. */
function keptCalls(page: Page): Promise<Record<string, string>> {
  return page.evaluate(() =>
    Object.fromEntries(Object.entries(localStorage).filter(([key]) => key.startsWith('omnipersona-calls:'))),
  );
}

test('a page that includes the tag twice runs one personalizer', async ({ page, context, shop }) => {
  const problems = watchPage(page);
  const tag = '<script src="/sdk/omnipersona.js" data-site="twice" data-capture="false" data-widgets="false"></script>';
  await context.route(`${shop.url}/twice.html`, (route) =>
    route.fulfill({ contentType: 'text/html', body: `<!doctype html><title>twice</title>${tag}${tag}` }),
  );
  await page.goto(`${shop.url}/twice.html`);
  await page.evaluate((event) => window.omnipersona?.('track', event), view('a'));
  await page.evaluate(() => window.omnipersona?.flush?.());
  expect((await readStoredEvents(page, 'twice')).map((event) => event.item?.id)).toEqual(['a']);
  expect(problems.warnings).toEqual([
    '[omnipersona] omnipersona.js is already running on this page; this copy does nothing',
  ]);
  expect(problems.pageErrors).toEqual([]);
});
