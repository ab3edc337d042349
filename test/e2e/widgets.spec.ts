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
