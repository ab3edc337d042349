import type { Page } from '@playwright/test';
import {
  type CapturedEvent,
  expect,
  sdkLoaded,
  sdkTag,
  serveFixture,
  storedEvents,
  test,
} from './fixtures/capture-page.js';
import { watchPage } from './page-problems.js';

const PARTS = ['pages', 'products', 'clicks', 'cart', 'purchases', 'dataLayer', 'search', 'dwell', 'scroll'] as const;
type Part = (typeof PARTS)[number];

/** Which part of capture recorded an event on the every-part page. */
function partsOf(event: CapturedEvent): Part[] {
  switch (event.type) {
    case 'page':
      return ['pages'];
    case 'view':
      return ['products'];
    case 'click':
      return ['clicks'];
    case 'add_to_cart':
      return [event.item?.id === 'dl-1' ? 'dataLayer' : 'cart'];
    case 'purchase':
      return ['purchases'];
    case 'search':
      return ['search'];
    case 'engagement':
      return [
        ...(event.dwellMs === undefined ? [] : ['dwell' as const]),
        ...(event.scrollDepth === undefined ? [] : ['scroll' as const]),
      ];
    default:
      return [];
  }
}

/** Does everything the every-part page offers, and returns the parts that recorded something. */
async function partsRecorded(page: Page, origin: string, site: string, head: string): Promise<Part[]> {
  await serveFixture(page, `${origin}/every-part?*`, 'every-part.html', head);
  await page.goto(`${origin}/every-part?q=socks`);
  await sdkLoaded(page);
  await page.evaluate(async () => {
    // The shopper looks at the product for a moment (dwell) before clicking and scrolling it away.
    await new Promise((resolve) => setTimeout(resolve, 300));
    document.getElementById('card')?.click();
    document.getElementById('add')?.click();
    scrollTo(0, 1000);
    await new Promise((resolve) => setTimeout(resolve, 250));
    // A navigation ends the visit, which reports engagement.
    history.pushState(null, '', '/every-part?q=socks&page=2');
  });
  const events = await storedEvents(page, site);
  return PARTS.filter((part) => events.some((event) => partsOf(event).includes(part)));
}

const others = (...off: Part[]) => PARTS.filter((part) => !off.includes(part));

// Each part is off on one page and on on the others: three pages, three parts off on each, turned
// off in each of the three ways.
test('every part of capture records on its own and can be turned off by itself, by attribute or inline config', async ({
  page,
  origin,
}) => {
  const problems = watchPage(page);
  const config = (capture: object) =>
    `<script type="application/json" data-omnipersona-config>${JSON.stringify({ capture })}</script>`;
  const variants: Array<{ name: string; head: (site: string) => string; expected: Part[] }> = [
    {
      name: 'data-capture-exclude',
      head: (site) => sdkTag(site, { 'capture-exclude': 'pages, cart,dwell' }),
      expected: others('pages', 'cart', 'dwell'),
    },
    {
      name: 'inline config',
      head: (site) => config({ products: false, purchases: false, scroll: false }) + sdkTag(site),
      expected: others('products', 'purchases', 'scroll'),
    },
    {
      name: 'data-capture lists the parts',
      head: (site) => sdkTag(site, { capture: others('clicks', 'dataLayer', 'search').join(',') }),
      expected: others('clicks', 'dataLayer', 'search'),
    },
    { name: 'capture off', head: (site) => sdkTag(site, { capture: 'false' }), expected: [] },
  ];
  const results: Array<{ name: string; parts: Part[] }> = [];
  for (const [index, { name, head }] of variants.entries()) {
    // Each page has its own site, so its own database.
    results.push({ name, parts: await partsRecorded(page, origin, `switch-${index}`, head(`switch-${index}`)) });
  }
  expect(results).toEqual(variants.map(({ name, expected }) => ({ name, parts: expected })));
  expect(problems.all).toEqual([]);
});

test('a malformed capture option is reported once and ignored; the rest of capture runs', async ({ page, origin }) => {
  const problems = watchPage(page);
  const config = JSON.stringify({
    capture: { dwell: { visibleRatio: 7 }, clicks: { regions: { header: '[[[' } }, bogus: true, search: false },
  });
  const head = `<script type="application/json" data-omnipersona-config>${config}</script>${sdkTag('bad-config', { 'capture-exclude': 'scroll, nonsense' })}`;
  const parts = await partsRecorded(page, origin, 'bad-config', head);
  expect(parts).toEqual(others('search', 'scroll'));
  expect(problems.pageErrors).toEqual([]);
  expect(problems.warnings.sort()).toEqual([
    expect.stringMatching(/^\[omnipersona\] Unknown capture option "bogus"; expected one of productUrls, pages, /u),
    expect.stringMatching(
      /^\[omnipersona\] Unknown capture part "nonsense" in data-capture-exclude; expected pages, /u,
    ),
    '[omnipersona] capture.clicks.regions.header: expected a CSS selector, received "[[["; using its default',
    '[omnipersona] capture.dwell.visibleRatio: expected <=1, received 7; using its default',
  ]);
});
