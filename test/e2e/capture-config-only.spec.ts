import { expect, FAST, sdkLoaded, sdkTag, serveFixture, storedEvents, test } from './fixtures/capture-page.js';
import { watchPage } from './page-problems.js';

test('a shop without any SDK markup is tracked from an inline JSON config of URL patterns and selectors', async ({
  page,
  origin,
}) => {
  const problems = watchPage(page);
  await serveFixture(page, `${origin}/plain/**`, 'plain-shop.html', sdkTag('plain', { config: 'shop-config' }));
  const events = async () =>
    (await storedEvents(page, 'plain')).filter((event) => event.type !== 'page' && event.type !== 'engagement');

  // The product page: its URL names the product, its selectors the rest (the title arrives late).
  await page.goto(`${origin}/plain/product/42`);
  await sdkLoaded(page);
  const tool42 = {
    id: '42',
    name: 'Garden tool 42',
    price: 1299,
    currency: 'EUR',
    category: 'Garden > Tools',
    brand: 'Gardena',
    url: `${origin}/plain/product/42`,
  };
  await expect.poll(events, FAST).toEqual([expect.objectContaining({ type: 'view', item: tool42 })]);

  // Add to cart through the configured button: the page's product, the form's quantity.
  await page.click('.buy');
  await expect
    .poll(async () => (await events()).slice(1), FAST)
    .toEqual([expect.objectContaining({ type: 'add_to_cart', item: tool42, quantity: 3 })]);

  // A related product's title link: the region's name and the product's position in it.
  await page.click('#related-8-title');
  await page.waitForURL('**/plain/product/8');
  await expect
    .poll(
      async () =>
        (await events()).slice(2).map(({ type, item, source, properties }) => ({ type, item, source, properties })),
      FAST,
    )
    .toEqual([
      {
        type: 'click',
        item: { id: '8', url: `${origin}/plain/product/8` },
        source: 'related',
        properties: { position: 2 },
      },
      {
        type: 'view',
        item: { ...tool42, id: '8', name: 'Garden tool 8', url: `${origin}/plain/product/8` },
        source: undefined,
        properties: undefined,
      },
    ]);

  // The search form loads the result page, which records the query once, with its result count.
  await page.fill('input[type=search]', 'rake');
  await page.press('input[type=search]', 'Enter');
  await page.waitForURL('**/plain/search?q=rake');
  await expect
    .poll(async () => (await events()).slice(4), FAST)
    .toEqual([expect.objectContaining({ type: 'search', query: 'rake', resultCount: 12 })]);

  // The thank-you page's own markup is the order.
  await page.goto(`${origin}/plain/checkout/done`);
  await expect
    .poll(async () => (await events()).slice(5), FAST)
    .toEqual([
      expect.objectContaining({
        type: 'purchase',
        orderId: 'A-1001',
        currency: 'EUR',
        items: [
          { item: { id: '42', name: 'Garden tool 42', price: 1299, currency: 'EUR' }, quantity: 3, price: 1299 },
          { item: { id: '8', name: 'Hoe 8', price: 19.9, currency: 'EUR' }, quantity: 1, price: 19.9 },
        ],
      }),
    ]);
  await page.waitForTimeout(200);
  expect((await events()).length).toBe(6);
  expect(problems.all).toEqual([]);
});
