import {
  type CapturedEvent,
  collectTracked,
  expect,
  FAST,
  sdkLoaded,
  sdkTag,
  serveFixture,
  storedEvents,
  test,
  trackedEvents,
} from './fixtures/capture-page.js';
import { watchPage } from './page-problems.js';

declare global {
  interface Window {
    ownPushes: string[];
    laterPushes: number;
  }
}

const where = (event: CapturedEvent) => {
  const url = new URL(event.context?.url ?? 'about:blank');
  return `${url.pathname}${url.hash}`;
};

test('SPA navigation records one page event per route, in order, with the route title, and one view per product shown', async ({
  page,
  origin,
}) => {
  const problems = watchPage(page);
  await serveFixture(page, `${origin}/spa/**`, 'spa-shop.html', sdkTag('spa'));
  await page.goto(`${origin}/spa/?utm_source=newsletter`);
  await sdkLoaded(page);
  await collectTracked(page);
  // Another script wraps pushState after the SDK did: both keep working.
  await page.evaluate(() => {
    window.laterPushes = 0;
    const previous = history.pushState;
    history.pushState = function (...args: Parameters<History['pushState']>) {
      window.laterPushes++;
      return previous.apply(this, args);
    };
  });
  const pages = async () => (await storedEvents(page, 'spa', 'page')).map((event) => [where(event), event.title]);
  const expected: Array<[string, string]> = [['/spa/', 'SPA shop']];
  const step = async (action: () => Promise<unknown>, path?: string, title?: string) => {
    await action();
    if (path && title) expected.push([path, title]);
    // Each step waits for its page event, so their times are in order.
    await expect.poll(pages, FAST).toEqual(expected);
  };

  // The app drops the campaign parameters from the address bar: the same page.
  await step(() => page.evaluate(() => history.replaceState(history.state, '', '/spa/')));
  await step(() => page.click('#to-tent'), '/spa/product/tent-1', 'Ridge tent | SPA shop');
  expect(await page.evaluate(() => history.state)).toEqual({ from: '/spa/', scroll: 0 });
  await step(() => page.click('#to-stove'), '/spa/product/stove-2', 'Camp stove | SPA shop');
  // An in-page anchor and a pushState to the same URL are not new pages.
  await page.click('#to-anchor');
  await page.evaluate(() => history.pushState(history.state, '', location.href));
  await step(() => page.click('#to-about'), '/spa/about', 'About | SPA shop');
  await step(() => page.goBack(), '/spa/product/stove-2#team', 'Camp stove | SPA shop');
  // A route-like hash is a page.
  await step(
    () => page.evaluate(() => (location.hash = '#/reviews')),
    '/spa/product/stove-2#/reviews',
    'Camp stove | SPA shop',
  );
  await page.waitForTimeout(300); // nothing more arrives
  expect(await pages()).toEqual(expected);

  // Views: one per product route, none for the JSON-LD the app leaves behind on /spa/about or the
  // review route, and the stove again when the shopper comes back to its page — which the core's
  // cleaning then drops as a repeated view within seconds.
  const captured = (await trackedEvents(page, 'view')).map((event) => [event.item?.id, where(event)]);
  expect(captured).toEqual([
    ['tent-1', '/spa/product/tent-1'],
    ['stove-2', '/spa/product/stove-2'],
    ['stove-2', '/spa/product/stove-2#team'],
  ]);
  const views = await storedEvents(page, 'spa', 'view');
  expect(views.map((event) => [event.item?.id, where(event)])).toEqual(captured.slice(0, 2));
  expect(views[0]?.item).toMatchObject({ name: 'Ridge tent', brand: 'Acme', price: 249, currency: 'USD' });

  // The page's own history calls still work: its wrappers (before and after the SDK's) saw every call.
  const own = await page.evaluate(() => ({ pushes: window.ownPushes, later: window.laterPushes }));
  expect(own.pushes).toEqual([
    '/spa/product/tent-1',
    '/spa/product/stove-2',
    `${origin}/spa/product/stove-2#team`,
    '/spa/about',
  ]);
  expect(own.later).toBe(4);
  expect(problems.all).toEqual([]);
});
