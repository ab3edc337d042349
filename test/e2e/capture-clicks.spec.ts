import { expect, FAST, sdkLoaded, sdkTag, serveFixture, storedEvents, test } from './fixtures/capture-page.js';
import { watchPage } from './page-problems.js';

test('clicks on product cards and links record the item, the widget or region, and the position in it', async ({
  page,
  origin,
}) => {
  const problems = watchPage(page);
  await serveFixture(page, `${origin}/lists/`, 'product-lists.html', sdkTag('lists', { widgets: 'false' }));
  await page.goto(`${origin}/lists/`);
  await sdkLoaded(page);

  await page.click('#similar-3-name'); // inside the card
  await page.click('#together-1');
  await page.click('#grid-button'); // a card outside any widget or region
  await page.click('#deal'); // a product link in a configured region
  await page.click('#help'); // not a product
  await page.click('#similar-2', { button: 'middle' }); // opens the product in a new tab

  const clicks = async () =>
    (await storedEvents(page, 'lists', 'click')).map(({ item, source, properties }) => ({ item, source, properties }));
  await expect.poll(async () => (await clicks()).length, FAST).toBe(5);
  await page.waitForTimeout(200);
  expect(await clicks()).toEqual([
    { item: { id: 'a3', url: `${origin}/lists/p/a3` }, source: 'recs:similar', properties: { position: 3 } },
    { item: { id: 'b1', url: `${origin}/lists/p/b1` }, source: 'recs:bought-together', properties: { position: 1 } },
    {
      item: { id: 'g1', name: 'Grid one', price: 12.5, currency: 'USD', category: ['Home', 'Lamps'] },
      source: 'page',
      properties: undefined,
    },
    { item: { id: 'deal-1', url: `${origin}/lists/p/deal-1` }, source: 'header', properties: { position: 1 } },
    { item: { id: 'a2', url: `${origin}/lists/p/a2` }, source: 'recs:similar', properties: { position: 2 } },
  ]);
  expect(problems.all).toEqual([]);
});
