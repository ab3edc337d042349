import { expect, FAST, sdkLoaded, sdkTag, serveFixture, storedEvents, test } from './fixtures/capture-page.js';
import { watchPage } from './page-problems.js';

test('an SPA with none of our markup, configured inline, stores each product view, add-to-cart and purchase exactly once', async ({
  page,
  origin,
}) => {
  const problems = watchPage(page);
  await serveFixture(page, `${origin}/nomark/**`, 'spa-no-markup.html', sdkTag('nomark', { config: 'shop-config' }));
  const commerce = async () =>
    (await storedEvents(page, 'nomark'))
      .filter((event) => ['view', 'add_to_cart', 'purchase'].includes(event.type))
      .map((event) =>
        event.type === 'purchase'
          ? `purchase ${event.orderId} ${event.items?.map((line) => `${line.item.id}×${line.quantity}@${line.price}`).join(',')}`
          : `${event.type} ${event.item?.id} ${event.item?.name} ${event.item?.price} ${[event.item?.category].flat().join(' > ')}`,
      );

  await page.goto(`${origin}/nomark/`);
  await sdkLoaded(page);
  await page.click('#to-boot');
  await page.click('button.add');
  await page.click('#to-sock');
  await page.click('button.add');
  await page.click('#to-done');

  const expected = [
    'view boot-7 Hiking boot 129 Footwear > Boots',
    'add_to_cart boot-7 Hiking boot 129 Footwear > Boots',
    'view sock-3 Wool socks 14.5 Footwear > Socks',
    'add_to_cart sock-3 Wool socks 14.5 Footwear > Socks',
    'purchase N-2044 boot-7×1@129,sock-3×1@14.5',
  ];
  await expect.poll(commerce, FAST).toEqual(expected);
  // Nothing arrives twice later (mutations, navigation bookkeeping, the pagehide flush).
  await page.waitForTimeout(500);
  await page.evaluate(() => window.omnipersona?.flush?.());
  expect(await commerce()).toEqual(expected);
  const pages = (await storedEvents(page, 'nomark')).filter((event) => event.type === 'page');
  expect(pages.map((event) => new URL(event.context?.url ?? '').pathname)).toEqual([
    '/nomark/',
    '/nomark/product/boot-7',
    '/nomark/product/sock-3',
    '/nomark/done',
  ]);
  expect(problems.all).toEqual([]);
});
