import type { Browser, Page } from '@playwright/test';
import { rankBiasedOverlap } from '../../bench/rank-overlap.mjs';
import type { Profile } from '../../src/core/features/profile.js';
import { signShopperToken } from '../../src/server/index.js';
import { expect, serveSdkPage, test } from './storage-helpers.js';

/*
 * Two browser contexts are two channels of one signed-in shopper — the web shop and the app —
 * each with its own IndexedDB, against one sync server. After activity on one and a sync on both,
 * they must recommend alike; a purchase at the till, posted by the shop's backend, must reach both.
 */

// Versions stay put while the channels sync: a round needs 20 updates.
test.use({ roundSize: 20 });

interface CatalogEntry {
  id: string;
  name: string;
  brand: string;
  category: string[];
  price: number;
}

/** A page of `channel` with the script tag, consent `synced`, on the demo server's origin. */
async function channelPage(browser: Browser, userAgent: string | undefined, url: string, channel: string) {
  const context = await browser.newContext(userAgent ? { userAgent } : {});
  // As the demo fixture does for its own context: the bot filter records this browser as a person.
  await context.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, 'webdriver', { configurable: true, get: () => false });
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(
    await serveSdkPage(page, url, `${channel}-channel`, { site: 'cross', endpoint: url, channel, consent: 'synced' }),
  );
  await page.exposeFunction('reportSdkError', (line: string) => problems.push(line));
  await page.evaluate(() =>
    window.omnipersona?.on?.('error', (error) => {
      void (window as unknown as { reportSdkError(line: string): void }).reportSdkError(
        `${error.code}: ${error.message}`,
      );
    }),
  );
  return { page, problems, close: () => context.close() };
}

async function signIn(page: Page, token: string) {
  await page.evaluate((shopperToken) => window.omnipersona?.identify?.('ana', { token: shopperToken }), token);
}

/** Syncs, then retrains on what the log holds now, as the idle trainer would. */
async function syncAndTrain(page: Page) {
  return page.evaluate(async () => {
    const op = window.omnipersona;
    const report = await op?.sync?.();
    await op?.train?.();
    return report;
  });
}

async function forYou(page: Page): Promise<string[]> {
  return page.evaluate(async () =>
    ((await window.omnipersona?.recommend?.({ kind: 'for-you', count: 10 })) ?? []).map((pick) => pick.item.id),
  );
}

async function profile(page: Page): Promise<Profile> {
  return (await page.evaluate(() => window.omnipersona?.profile?.())) as Profile;
}

/** What a profile says that does not move with the clock. */
function timeless(of: Profile) {
  const { recency: _recency, purchasePropensity: _propensity, ...rest } = of;
  return rest;
}

test('web and app of one shopper recommend alike after one sync each, and both take a till purchase', async ({
  browser,
  userAgent,
  demo,
}) => {
  test.setTimeout(180_000);
  const catalog = (await (await fetch(`${demo.url}/catalog.json`)).json()) as CatalogEntry[];
  const token = await signShopperToken(demo.siteSecret, 'ana');
  const web = await channelPage(browser, userAgent, demo.url, 'web');
  const app = await channelPage(browser, userAgent, demo.url, 'app');
  try {
    // On the web shop, the shopper looks at four coffees.
    await signIn(web.page, token);
    const coffees = catalog.filter((item) => item.category[0] === 'Coffee').slice(0, 4);
    await web.page.evaluate(async (items) => {
      for (const { id, name, brand, category, price } of items) {
        window.omnipersona?.track?.({ type: 'view', item: { id, name, brand, category, price } });
      }
      await window.omnipersona?.flush?.();
    }, coffees);
    const webSync = await syncAndTrain(web.page);
    expect(webSync?.shopper).toMatchObject({ pushed: 4, pulled: 0 });

    // The app signs in as the same shopper and syncs once.
    await signIn(app.page, token);
    const appSync = await syncAndTrain(app.page);
    expect(appSync?.shopper).toMatchObject({ pushed: 0, pulled: 4 });
    expect(appSync?.modelVersion).toBe(webSync?.modelVersion);

    const [webPicks, appPicks] = await Promise.all([forYou(web.page), forYou(app.page)]);
    expect(webPicks).toHaveLength(10);
    const overlap = rankBiasedOverlap(webPicks, appPicks);
    console.log(`cross-channel: rank-biased overlap of the top 10 after one sync each: ${overlap.toFixed(3)}`);
    expect(overlap).toBeGreaterThanOrEqual(0.9);
    expect(timeless(await profile(app.page))).toEqual(timeless(await profile(web.page)));
    expect((await profile(app.page)).categories[0]?.category).toBe('Coffee');

    // The shopper buys the web shop's first pick at the till; the shop's backend posts the receipt.
    const bought = webPicks[0] as string;
    const complements = await web.page.evaluate(
      async (item) =>
        ((await window.omnipersona?.recommend?.({ kind: 'bought-together', item, count: 5 })) ?? []).map(
          (pick) => pick.item.id,
        ),
      bought,
    );
    const receipt = await fetch(`${demo.url}/v1/shoppers/ana/events?channel=pos`, {
      method: 'POST',
      headers: { authorization: `Bearer ${demo.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        events: [
          {
            id: 'till-receipt-1',
            type: 'purchase',
            time: Date.now(),
            orderId: 'till-1',
            items: [{ item: { id: bought }, quantity: 1 }],
          },
        ],
      }),
    });
    expect(receipt.status).toBe(200);

    const rankOf = (picks: string[], item: string) => (picks.includes(item) ? picks.indexOf(item) : picks.length);
    const meanRank = (picks: string[]) =>
      complements.reduce((sum, item) => sum + rankOf(picks, item), 0) / complements.length;
    for (const channel of [web, app]) {
      // The receipt may already have come with the background sync that training starts.
      expect((await syncAndTrain(channel.page))?.shopper).toBeDefined();
      const after = await forYou(channel.page);
      expect(after).not.toContain(bought);
      // What goes with the purchase moves up.
      expect(meanRank(after)).toBeLessThan(meanRank(webPicks));
      expect((await profile(channel.page)).counts.purchase).toBe(1);
    }
    const [webAfter, appAfter] = await Promise.all([forYou(web.page), forYou(app.page)]);
    expect(rankBiasedOverlap(webAfter, appAfter)).toBeGreaterThanOrEqual(0.9);
    expect([...web.problems, ...app.problems]).toEqual([]);
  } finally {
    await Promise.all([web.close(), app.close()]);
  }
});
