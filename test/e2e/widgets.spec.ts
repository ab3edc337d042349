import type { BrowserContext, Page } from '@playwright/test';
import { FAST, storedEvents } from './fixtures/capture-page.js';
import { watchPage } from './page-problems.js';
import { expect, test } from './storage-helpers.js';

const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>widgets</title>
<script src="/sdk/omnipersona.js" data-site="widgets" data-train-after="0" data-capture="false"></script></head>
<body>
  <div id="recent" data-omnipersona-recs="recently-viewed" data-count="5" data-exclude="d" data-exclude-in-cart="true"></div>
  <div id="bad" data-omnipersona-recs="recently-viewed" data-boost="not json"></div>
</body></html>`;

test('a widget reads its request from its attributes, and a malformed one is reported, not thrown', async ({
  page,
  context,
  shop,
}) => {
  const problems = watchPage(page);
  await context.route(`${shop.url}/widgets.html`, (route) => route.fulfill({ contentType: 'text/html', body: PAGE }));
  await page.goto(`${shop.url}/widgets.html`);
  await page.evaluate(() => {
    const view = (id: string, category: string) => ({ type: 'view', item: { id, name: `Item ${id}`, category } });
    for (const [id, category] of [
      ['a', 'Coffee'],
      ['d', 'Coffee'],
      ['c', 'Tea'],
      ['b', 'Coffee'],
    ] as const) {
      window.omnipersona?.('track', view(id, category));
    }
    window.omnipersona?.('track', { type: 'add_to_cart', item: { id: 'b', name: 'Item b', category: 'Coffee' } });
  });
  // Most recent first, without the excluded item and the one in the cart.
  await expect(page.locator('#recent [data-omnipersona-card]')).toHaveCount(2);
  await expect(page.locator('#recent .omnipersona-rec-name')).toHaveText(['Item c', 'Item a']);
  await expect(page.locator('#bad')).not.toHaveAttribute('data-omnipersona-state', 'ready');
  await expect
    .poll(() => problems.warnings)
    .toContainEqual(expect.stringMatching(/^\[omnipersona\] Invalid recommend request at boost/u));
  expect(problems.pageErrors).toEqual([]);
});

/** Serves `/<name>.html` on `origin` with the SDK's script tag (`attributes` on it) and `body`. */
async function serveWidgetPage(
  context: BrowserContext,
  origin: string,
  name: string,
  body: string,
  attributes = 'data-capture="false"',
): Promise<string> {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${name}</title>
<script src="/sdk/omnipersona.js" data-site="${name}" data-train-after="0" ${attributes}></script></head>
<body>${body}</body></html>`;
  const url = `${origin}/${name}.html`;
  await context.route(url, (route) => route.fulfill({ contentType: 'text/html', body: html }));
  return url;
}

interface Viewed {
  id: string;
  name?: string;
  price?: number;
  brand?: string;
  category?: string;
  url?: string;
  image?: string;
}

/** Tracks a view of each item, in order: a recently-viewed widget shows them newest first. */
function view(page: Page, items: Viewed[]): Promise<void> {
  return page.evaluate((list) => {
    for (const item of list) window.omnipersona?.('track', { type: 'view', item });
  }, items);
}

const PIXEL = 'data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7';
const XSS_NAME = '<img src=x onerror="window.injected = true">Mug';

test('a widget with its own <template> shows the shop markup, fields as text, and keeps it on refresh', async ({
  page,
  context,
  shop,
}) => {
  const problems = watchPage(page);
  const url = await serveWidgetPage(
    context,
    shop.url,
    'inline-template',
    `<div id="recent" data-omnipersona-recs="recently-viewed" data-title="Your picks">
      <template>
        <article class="shop-card">
          <a class="shop-link" href="#placeholder" data-omnipersona-href>
            <img class="shop-image" data-omnipersona-src>
            <h3 data-omnipersona-field="name"></h3>
          </a>
          <p class="shop-brand">by <b data-omnipersona-field="brand"></b></p>
          <span class="shop-price" data-omnipersona-field="price"></span>
          <span class="shop-category" data-omnipersona-field="category"></span>
          <small data-omnipersona-field="reason"></small>
        </article>
      </template>
    </div>`,
  );
  await page.goto(url);
  await view(page, [
    { id: 'tea', name: 'Green tea' },
    {
      id: 'mug',
      name: XSS_NAME,
      price: 12.5,
      brand: '<b>Acme</b>',
      category: 'Kitchen > Mugs',
      url: '/p/mug',
      image: PIXEL,
    },
  ]);

  const widget = page.locator('#recent');
  await expect(widget).toHaveAttribute('data-omnipersona-state', 'ready');
  // One list named by the title; each card is an <li> wrapping the template's <article>.
  const list = widget.getByRole('list', { name: 'Your picks' });
  const entries = list.locator(':scope > li');
  await expect(entries.locator(':scope > article.shop-card')).toHaveCount(2);
  // Each entry is the card click capture reads, newest first.
  expect(await entries.evaluateAll((cards) => cards.map((card) => card.getAttribute('data-omnipersona-card')))).toEqual(
    ['mug', 'tea'],
  );
  const [mug, tea] = [entries.nth(0), entries.nth(1)];
  await expect(mug.locator('h3')).toHaveText(XSS_NAME);
  await expect(mug.locator('b')).toHaveText('<b>Acme</b>');
  await expect(mug.locator('.shop-price')).toHaveText('$12.50');
  await expect(mug.locator('.shop-category')).toHaveText('Kitchen > Mugs');
  await expect(mug.locator('small')).not.toBeEmpty();
  await expect(mug.locator('a')).toHaveAttribute('href', /\/p\/mug$/u);
  await expect(mug.locator('img')).toHaveAttribute('src', PIXEL);
  await expect(mug.locator('img')).toHaveAttribute('alt', '');
  // The markup in the item's metadata stayed text: no element came from it, and nothing ran.
  await expect(widget.locator('img[src="x"], h3 *, .shop-brand b *')).toHaveCount(0);
  expect(await page.evaluate(() => (window as { injected?: boolean }).injected)).toBeUndefined();
  // What the item lacks is left out: no image, no brand, no price, no category, no link.
  await expect(tea.locator('h3')).toHaveText('Green tea');
  await expect(tea.locator('img, b, .shop-price, .shop-category')).toHaveCount(0);
  await expect(tea.locator('a')).not.toHaveAttribute('href', /./u);

  // A refresh (the widget re-renders on each view) uses the template again.
  await view(page, [{ id: 'pot', name: 'Teapot' }]);
  await expect(entries.locator('h3')).toHaveText(['Teapot', XSS_NAME, 'Green tea']);
  await expect(widget.locator(':scope > template')).toHaveCount(1);
  await expect(widget.locator('.omnipersona-rec-name')).toHaveCount(0);
  expect(problems.all).toEqual([]);
});

test('data-template names a <template> elsewhere; clicks on its cards count for the widget with their position', async ({
  page,
  context,
  shop,
}) => {
  const problems = watchPage(page);
  const url = await serveWidgetPage(
    context,
    shop.url,
    'template-reference',
    `<template id="card"><li class="shop-card"><a data-omnipersona-href><span data-omnipersona-field="name"></span></a>
      <small data-omnipersona-field="reason"></small></li></template>
    <div id="recent" data-omnipersona-recs="recently-viewed" data-template="#card"></div>`,
    'data-capture="clicks"',
  );
  await page.goto(url);
  await view(
    page,
    ['a', 'b', 'c'].map((id) => ({ id, name: `Item ${id}`, url: `#item-${id}` })),
  );
  // The template's root is an <li>: it is the list entry and the card, not wrapped again.
  const cards = page.locator('#recent ul[aria-label="Recently viewed"] > li.shop-card[data-omnipersona-card]');
  await expect(cards.locator('span')).toHaveText(['Item c', 'Item b', 'Item a']);

  await cards.nth(1).locator('span').click();
  const clicks = async () =>
    (await storedEvents(page, 'template-reference', 'click')).map(({ item, source, properties }) => ({
      item: item?.id,
      source,
      properties,
    }));
  await expect.poll(clicks, FAST).toEqual([{ item: 'b', source: 'recs:recently-viewed', properties: { position: 2 } }]);
  expect(problems.all).toEqual([]);
});

test('a template reference that selects no <template> is reported, not thrown, and the widget shows the default markup', async ({
  page,
  context,
  shop,
}) => {
  const problems = watchPage(page);
  const url = await serveWidgetPage(
    context,
    shop.url,
    'bad-template',
    `<div id="card">not a template</div>
    <div id="missing" data-omnipersona-recs="recently-viewed" data-template="#nowhere"></div>
    <div id="wrong" data-omnipersona-recs="recently-viewed" data-template="#card"></div>`,
  );
  await page.goto(url);
  await view(page, [
    { id: 'a', name: 'Item a' },
    { id: 'b', name: 'Item b' },
  ]);
  for (const id of ['missing', 'wrong']) {
    await expect(page.locator(`#${id} ul.omnipersona-recs > li.omnipersona-rec [data-omnipersona-card]`)).toHaveCount(
      2,
    );
    await expect(page.locator(`#${id} .omnipersona-rec-name`)).toHaveText(['Item b', 'Item a']);
  }
  await expect
    .poll(() => problems.warnings)
    .toEqual(
      expect.arrayContaining([
        '[omnipersona] Invalid widget template at widget #missing (data-omnipersona-recs="recently-viewed"): ' +
          'data-template="#nowhere" selects no element, expected a <template>; showing the default markup',
        '[omnipersona] Invalid widget template at widget #wrong (data-omnipersona-recs="recently-viewed"): ' +
          'data-template="#card" selects a <div>, expected a <template>; showing the default markup',
      ]),
    );
  expect(problems.pageErrors).toEqual([]);
});
