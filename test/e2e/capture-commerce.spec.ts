import type { Page } from '@playwright/test';
import { expect, FAST, sdkLoaded, sdkTag, serveFixture, storedEvents, test } from './fixtures/capture-page.js';
import { watchPage } from './page-problems.js';

declare global {
  interface Window {
    dataLayer: unknown[];
    gtag: (...args: unknown[]) => void;
    gtmSeen: string[];
    loadFakeGtm: () => void;
  }
}

/** The commerce events stored, in order, as short labels. */
async function commerce(page: Page, site: string): Promise<string[]> {
  return (await storedEvents(page, site))
    .filter((event) => !['page', 'engagement'].includes(event.type))
    .map((event) => {
      if (event.type === 'purchase')
        return `purchase ${event.orderId} ${event.items?.map((line) => `${line.item.id}×${line.quantity}`).join(' ')}`;
      if (event.type === 'search') return `search ${event.query}`;
      return `${event.type} ${event.item?.id}${event.quantity ? ` ×${event.quantity}` : ''}`;
    });
}

/** What the page pushes once the shopper acts, in both of GA4's forms. */
async function pushLater(page: Page): Promise<number[]> {
  return page.evaluate(() => [
    window.dataLayer.push({ ecommerce: null }),
    window.dataLayer.push({ event: 'remove_from_cart', ecommerce: { items: [{ item_id: 'hat-3', quantity: 1 }] } }),
    ((window.gtag('event', 'search', { search_term: 'boots' }) as unknown) ?? window.dataLayer.length) as number,
    window.dataLayer.push({
      event: 'purchase',
      ecommerce: {
        transaction_id: 'T-9',
        currency: 'EUR',
        items: [
          { item_id: 'jacket-1', item_name: 'Rain jacket', price: 120, quantity: 1 },
          { item_id: 'gloves-2', price: 25, quantity: 2 },
        ],
      },
    }),
  ]);
}

const EXPECTED = [
  'view jacket-1', // markup and the dataLayer's view_item: one view
  'add_to_cart hat-3 ×1', // the gtag() entry already in the layer, read once
  'add_to_cart jacket-1 ×1', // a button without an item: the product it sits in
  'add_to_cart gloves-2 ×2',
  'remove_from_cart gloves-2 ×1',
  'remove_from_cart hat-3 ×1',
  'search boots',
  'purchase T-9 jacket-1×1 gloves-2×2',
];

for (const gtm of ['before', 'after'] as const) {
  test(`cart buttons and a GA4 dataLayer record cart changes, searches and purchases, with Tag Manager loaded ${gtm} the SDK`, async ({
    page,
    origin,
  }) => {
    const problems = watchPage(page);
    const site = `commerce-${gtm}`;
    // Before: Tag Manager has wrapped push when the SDK arrives. After: it wraps the SDK's wrapper.
    const head = gtm === 'before' ? `<script>window.loadFakeGtm();</script>${sdkTag(site)}` : sdkTag(site);
    await serveFixture(page, `${origin}/jacket`, 'commerce-product.html', head);
    await page.goto(`${origin}/jacket`);
    await sdkLoaded(page);
    if (gtm === 'after') await page.evaluate(() => window.loadFakeGtm());
    await expect.poll(() => commerce(page, site), FAST).toEqual(EXPECTED.slice(0, 2));

    await page.click('#add');
    await page.click('#add-gloves');
    await page.click('#remove-gloves');
    const lengths = await pushLater(page);
    await expect.poll(() => commerce(page, site), FAST).toEqual(EXPECTED);

    // Tag Manager saw every entry, in order, and push still returns the layer's length.
    expect(await page.evaluate(() => window.gtmSeen)).toEqual([
      'view_item',
      'add_to_cart',
      'state',
      'remove_from_cart',
      'search',
      'purchase',
    ]);
    expect(lengths).toEqual([3, 4, 5, 6]);
    const hat = (await storedEvents(page, site, 'add_to_cart')).find((event) => event.item?.id === 'hat-3');
    expect(hat?.item).toEqual({
      id: 'hat-3',
      name: 'Hat',
      brand: 'Acme',
      category: ['Apparel', 'Hats'],
      price: 19.9,
      currency: 'EUR',
    });
    // Nothing is read twice, however often the page changes afterwards.
    await page.evaluate(() => document.body.append(document.createElement('p')));
    await page.waitForTimeout(300);
    expect(await commerce(page, site)).toEqual(EXPECTED);
    expect(problems.all).toEqual([]);
  });
}

test('a thank-you page records its order once, also when reloaded', async ({ page, origin }) => {
  const problems = watchPage(page);
  await serveFixture(page, `${origin}/thank-you`, 'thank-you.html', sdkTag('order'));
  await page.goto(`${origin}/thank-you`);
  await sdkLoaded(page);
  const purchases = () => storedEvents(page, 'order', 'purchase');
  await expect.poll(async () => (await purchases()).length, FAST).toBe(1);
  await page.reload();
  await sdkLoaded(page);
  await expect.poll(async () => (await storedEvents(page, 'order', 'page')).length, FAST).toBe(2);
  const [order, ...more] = await purchases();
  expect(more).toEqual([]);
  expect(order).toMatchObject({
    orderId: 'ORD-77',
    currency: 'EUR',
    items: [
      { item: { id: 'jacket-1', name: 'Rain jacket', currency: 'EUR' }, quantity: 1, price: 120 },
      { item: { id: 'gloves-2', name: 'Gloves', price: 25, currency: 'EUR' }, quantity: 2, price: 25 },
    ],
  });
  expect(problems.all).toEqual([]);
});
