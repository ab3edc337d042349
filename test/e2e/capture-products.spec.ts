import { expect, FAST, sdkLoaded, sdkTag, serveFixture, storedEvents, test } from './fixtures/capture-page.js';
import { watchPage } from './page-problems.js';

test('a product page with schema.org JSON-LD records one view with the full metadata', async ({ page, origin }) => {
  const problems = watchPage(page);
  await serveFixture(page, `${origin}/p/ridge-tent`, 'json-ld-product.html', sdkTag('jsonld'));
  await page.goto(`${origin}/p/ridge-tent`);
  await sdkLoaded(page);
  await expect.poll(async () => (await storedEvents(page, 'jsonld', 'view')).length, FAST).toBe(1);
  // Reviews keep streaming in for a while; still one view.
  await page.waitForFunction(() => document.querySelectorAll('#reviews li').length === 10);
  await page.waitForTimeout(300);
  const views = await storedEvents(page, 'jsonld', 'view');
  expect(views.map((view) => view.item)).toEqual([
    {
      id: 'RT-2P',
      name: 'Ridge tent 2P',
      brand: 'Acme Outdoor',
      category: ['Outdoor', 'Tents'],
      price: 1249.9,
      currency: 'EUR',
      image: `${origin}/img/ridge-tent.jpg`,
      url: `${origin}/p/ridge-tent`,
      inStock: true,
    },
  ]);
  expect(problems.all).toEqual([]);
});

test('a JSON-LD Offer with the product inside records the product, its low price and its availability', async ({
  page,
  origin,
}) => {
  const problems = watchPage(page);
  await serveFixture(page, `${origin}/stove`, 'json-ld-offer.html', sdkTag('offer'));
  await page.goto(`${origin}/stove`);
  await sdkLoaded(page);
  await expect
    .poll(async () => (await storedEvents(page, 'offer', 'view')).map((view) => view.item), FAST)
    .toEqual([
      {
        id: 'stove-9',
        name: 'Camp stove',
        brand: 'Blaze',
        category: 'Outdoor > Cooking',
        price: 59.5,
        currency: 'USD',
        image: 'https://cdn.example/stove.jpg',
        inStock: false,
      },
    ]);
  expect(problems.all).toEqual([]);
});
