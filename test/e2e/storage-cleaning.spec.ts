import { watchPage } from './page-problems.js';
import { expect, rawEvents, serveSdkPage, status, test, trackViews } from './storage-helpers.js';

test.describe('a browser driven by automation, as Playwright starts it', () => {
  test.use({ presentAs: 'automation' });

  test('stores nothing by default, and status() says why', async ({ page, shop }) => {
    const problems = watchPage(page);
    await page.goto(await serveSdkPage(page, shop.url, 'bot', { site: 'bot' }));
    expect(await page.evaluate(() => [navigator.webdriver, /HeadlessChrome/u.test(navigator.userAgent)])).toEqual([
      true,
      true,
    ]);
    await trackViews(page, ['a', 'b', 'c']);
    await page.evaluate(() => window.omnipersona?.flush?.());
    expect(await status(page)).toMatchObject({
      events: 0,
      queued: 0,
      rejected: { invalid: 0, duplicate: 0, bot: 3, anomaly: 0 },
      automation: ['webdriver', 'headless'],
    });
    expect(await rawEvents(page, 'bot')).toEqual([]);
    expect(problems.all).toEqual([]);
  });

  test('is recorded with data-bot-filter="false"', async ({ page, shop }) => {
    await page.goto(await serveSdkPage(page, shop.url, 'bot-allowed', { site: 'bot-allowed', 'bot-filter': 'false' }));
    await trackViews(page, ['a', 'b', 'c']);
    await expect.poll(async () => (await rawEvents(page, 'bot-allowed')).length).toBe(3);
    const current = await status(page);
    expect(current.rejected.bot).toBe(0);
    expect(current.automation).toBeUndefined();
  });
});
