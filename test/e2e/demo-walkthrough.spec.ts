import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, type Frame, type FrameLocator, type Page, test } from '@playwright/test';
import { rankBiasedOverlap } from '../../bench/rank-overlap.mjs';
import type { Profile } from '../../src/core/features/profile.js';
import type { Personalizer } from '../../src/core/personalizer/personalizer.js';

/*
 * One shopper walks through the demo's three channels on its landing page, as a visitor would: the
 * web shop (script tag) and the app (npm package) side by side, each its own device, and the
 * in-store till. They must agree after a sync, the panels must show the SDK's own figures, and a
 * sale at the till must reach both. With OMNIPERSONA_WRITE_SCREENSHOTS=1 (`npm run screenshots`) the
 * README's screenshots are written to docs/screenshots.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const screenshots = process.env.OMNIPERSONA_WRITE_SCREENSHOTS ? join(root, 'docs', 'screenshots') : undefined;

interface Channel {
  frame: Frame;
  ui: FrameLocator;
}

test.use({ viewport: { width: 1800, height: 1100 } });

test('one shopper across web, app and till: the channels agree, the panels are right, a till sale and a profile correction reach both', async ({
  browser,
}, testInfo) => {
  test.setTimeout(240_000);
  if (!existsSync(join(root, 'demo', 'app', 'dist', 'index.html'))) {
    throw new Error('The demo app is not built: run `npm run build:demo` first');
  }
  const { startDemo } = await import('../../demo/serve.mjs');
  // Rounds of 20: the global version holds still while the two devices sync, as on a busy server.
  const demo = await startDemo({ port: 0, roundSize: 20, dataDir: mkdtempSync(join(tmpdir(), 'omnipersona-demo-')) });
  const major = browser.version().split('.')[0];
  const context = await browser.newContext({
    userAgent: `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${major}.0.0.0 Safari/537.36`,
  });
  // The SDK's bot filter would set a browser driven by Playwright aside: present it as a person's.
  await context.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, 'webdriver', { configurable: true, get: () => false });
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  try {
    await page.goto(`${demo.url}/`);
    const web = await channel(page, 'store');
    const app = await channel(page, 'app');
    const till = page.frameLocator('iframe[src="./kiosk/"]');

    // The web shop: sign in, look at three running shoes, put one in the cart.
    await signIn(web, 'ana');
    await web.ui.locator('nav.departments a', { hasText: 'Running' }).click();
    await web.ui.locator('.chips a', { hasText: 'Running Shoes' }).click();
    const shoes = web.ui.locator('ul.grid a.card');
    const viewed: string[] = [];
    for (const index of [0, 1, 2]) {
      const card = shoes.nth(index);
      viewed.push((await card.getAttribute('data-omnipersona-card')) as string);
      await card.click();
      await expect(web.ui.locator('article.product')).toHaveAttribute(
        'data-omnipersona-item',
        new RegExp(viewed[index] as string),
      );
      await web.frame.evaluate(() => history.back());
      await expect(shoes.first()).toBeVisible();
    }
    await shoes.nth(0).click();
    await web.ui.getByRole('button', { name: 'Add to cart' }).click();
    await expect(web.ui.locator('#cart-count')).toHaveText('1');
    await web.frame.evaluate(() => window.omnipersona?.flush?.());
    // Background syncs may have sent some of the events already: this one sends the rest.
    const webSync = await syncNow(web);
    expect(webSync.shopper).toBeDefined();

    // The app: the same shopper signs in and syncs once; the web shop's events arrive.
    await signIn(app, 'ana');
    const appSync = await syncNow(app);
    expect(appSync.shopper?.pulled).toBeGreaterThanOrEqual(4);
    expect(appSync.modelVersion).toBe(webSync.modelVersion);
    await Promise.all([train(web), train(app)]);

    const [webPicks, appPicks] = await Promise.all([forYou(web), forYou(app)]);
    expect(webPicks).toHaveLength(10);
    const overlap = rankBiasedOverlap(webPicks, appPicks);
    console.log(`demo walkthrough: rank-biased overlap of web and app top 10: ${overlap.toFixed(3)}`);
    expect(overlap).toBeGreaterThanOrEqual(0.9);
    const [webProfile, appProfile] = await Promise.all([profile(web), profile(app)]);
    expect(appProfile.categories).toEqual(webProfile.categories);
    expect(appProfile.categories[0]?.category).toBe('Running');
    for (const device of [web, app]) await expectPanelRight(device);
    await refreshWidgets(web);
    await snap(page, 'channels', testInfo);

    // At the till: the shopper buys the web shop's first pick; the shop's backend posts the sale.
    const bought = webPicks[0] as string;
    const department = (await web.frame.evaluate(
      (id) => window.omnipersona?.catalog?.get(id)?.category[0],
      bought,
    )) as string;
    await till.locator('input[name="user"]').fill('ana');
    await till.locator('#departments a', { hasText: department }).click();
    await till.locator(`button[data-item-id="${bought}"]`).click();
    await till.getByRole('button', { name: 'Pay' }).click();
    await expect(till.locator('#receipt')).toContainText('Sold to ana');

    for (const device of [web, app]) {
      const report = await syncNow(device);
      expect(report.shopper?.pulled).toBeGreaterThanOrEqual(1);
      await train(device);
      expect(await forYou(device)).not.toContain(bought);
      expect((await profile(device)).counts.purchase).toBe(1);
      await expectPanelRight(device);
    }
    // A gift bought for someone else: the shopper looks at a kitchen product, then removes the
    // interest from the web shop's panel; after a sync, neither channel holds it.
    await web.frame.evaluate(() => {
      location.hash = '#/c/Kitchen';
    });
    await web.ui.locator('ul.grid a.card').first().click();
    await expect(web.ui.locator('article.product')).toBeVisible();
    await web.frame.evaluate(() => window.omnipersona?.flush?.());
    await syncNow(web);
    await syncNow(app);
    const interests = async (device: Channel) => (await profile(device)).categories.map((entry) => entry.category);
    expect(await interests(app)).toContain('Kitchen');
    await expect(web.ui.locator('[data-panel="profile"] li[data-category="Kitchen"]')).toBeVisible({ timeout: 10_000 });
    await web.ui.locator('[data-panel="profile"] li[data-category="Kitchen"] button.remove').click();
    await expect(web.ui.locator('[data-panel="profile"] li[data-category="Kitchen"]')).toHaveCount(0, {
      timeout: 10_000,
    });
    // The app learns of the removal at its next sync (a background one may have been first).
    await syncNow(app);
    for (const device of [web, app]) expect(await interests(device)).not.toContain('Kitchen');
    await expect(app.ui.locator('[data-panel="profile"] li[data-category="Kitchen"]')).toHaveCount(0, {
      timeout: 10_000,
    });

    // Search, cart and checkout on the web shop: the order is a purchase on the device.
    await web.ui.locator('input[type="search"]').fill('socks');
    await web.ui.locator('input[type="search"]').press('Enter');
    await expect(web.ui.locator('main h1')).toContainText('results for “socks”');
    expect(await web.ui.locator('main ul.grid a.card').count()).toBeGreaterThan(0);
    await web.ui.locator('a.cart-link').click();
    await web.ui.getByRole('link', { name: 'Checkout' }).click();
    await web.ui.locator('input[name="name"]').fill('Ana');
    await web.ui.locator('input[name="address"]').fill('1 Main Street');
    await web.ui.getByRole('button', { name: /Place order/ }).click();
    await expect(web.ui.locator('main h1')).toHaveText('Thank you!');
    await web.frame.evaluate(() => window.omnipersona?.flush?.());
    expect((await profile(web)).counts.purchase).toBe(2);
    expect((await profile(web)).counts.search).toBe(1);

    for (const [name, path] of [
      ['web', '/store/#/'],
      ['app', '/app/#/'],
    ] as const) {
      const alone = await context.newPage();
      await alone.goto(`${demo.url}${path}`);
      await expect(alone.locator('[data-panel="events"]')).not.toHaveText('0', { timeout: 30_000 });
      // The model loads when the page is idle: its panel rows fill then.
      await expect(alone.locator('[data-panel="model"]')).toContainText('from the server', { timeout: 30_000 });
      await alone.waitForTimeout(1500);
      await snap(alone, name, testInfo);
      await alone.close();
    }
    expect(problems).toEqual([]);
  } finally {
    await context.close();
    await demo.close();
  }
});

async function channel(page: Page, path: string): Promise<Channel> {
  const selector = `iframe[src="./${path}/"]`;
  const handle = await page.waitForSelector(selector);
  const frame = (await handle.contentFrame()) as Frame;
  const ui = page.frameLocator(selector);
  await expect(ui.locator('[data-panel="backend"]')).not.toHaveText('–', { timeout: 60_000 });
  return { frame, ui };
}

/** Signs in through the panel's form, as a visitor does. */
async function signIn({ ui }: Channel, userId: string): Promise<void> {
  await ui.locator('[data-panel="signin"] input[name="user"]').fill(userId);
  await ui.locator('[data-panel="signin"] button[type="submit"]').click();
  await expect(ui.locator('[data-panel="who"]')).toHaveText(`signed in as ${userId}`);
}

interface SyncSummary {
  modelVersion?: number;
  shopper?: { pushed: number; pulled: number; removed: number };
}

/** The panel's "Sync now", then the report of that sync from the SDK. */
async function syncNow({ frame, ui }: Channel): Promise<SyncSummary> {
  const before = await frame.evaluate(
    async () =>
      ((await (window.op ?? (window.omnipersona as Personalizer)).status()) as { lastSync?: { at: number } }).lastSync
        ?.at ?? 0,
  );
  await ui.locator('[data-panel="sync-now"]').click();
  await expect
    .poll(
      async () =>
        frame.evaluate(
          async () =>
            ((await (window.op ?? (window.omnipersona as Personalizer)).status()) as { lastSync?: { at: number } })
              .lastSync?.at ?? 0,
        ),
      {
        timeout: 60_000,
      },
    )
    .toBeGreaterThan(before);
  return frame.evaluate(
    async () =>
      ((await (window.op ?? (window.omnipersona as Personalizer)).status()) as { lastSync: SyncSummary }).lastSync,
  );
}

/** Retrains on what the log holds now, as the idle trainer would. */
async function train({ frame }: Channel): Promise<void> {
  await frame.evaluate(() => (window.op ?? (window.omnipersona as Personalizer)).train());
}

async function forYou({ frame }: Channel): Promise<string[]> {
  return frame.evaluate(async () =>
    (
      (await (window.op ?? (window.omnipersona as Personalizer)).recommend({ kind: 'for-you', count: 10 })) as Array<{
        item: { id: string };
      }>
    ).map((pick) => pick.item.id),
  );
}

async function profile({ frame }: Channel): Promise<Profile> {
  return (await frame.evaluate(() => (window.op ?? (window.omnipersona as Personalizer)).profile())) as Profile;
}

/** The panel shows what `status()` says: events, model version, last update size. */
async function expectPanelRight({ frame, ui }: Channel): Promise<void> {
  const status = (await frame.evaluate(() => (window.op ?? (window.omnipersona as Personalizer)).status())) as {
    events: number;
    queued: number;
    modelVersion?: number;
    lastSync?: { updateBytes?: number };
  };
  await expect(ui.locator('[data-panel="events"]')).toHaveText(String(status.events + status.queued));
  await expect(ui.locator('[data-panel="model"]')).toContainText(`v${status.modelVersion}`);
  if (status.lastSync?.updateBytes) {
    await expect(ui.locator('[data-panel="update"]')).toContainText(
      `${(status.lastSync.updateBytes / 1024).toFixed(1)} KiB`,
    );
  }
  await expect(ui.locator('[data-panel="profile"] li').first()).toBeVisible();
}

/** Back to the web shop's home page, so that its widgets show the shopper's picks. */
async function refreshWidgets({ frame, ui }: Channel): Promise<void> {
  await frame.evaluate(() => {
    location.hash = '#/';
  });
  await expect(ui.locator('[data-omnipersona-recs="for-you"] a').first()).toBeVisible({ timeout: 30_000 });
  await frame.waitForTimeout(1000);
}

async function snap(page: Page, name: string, testInfo: { outputPath(name: string): string }): Promise<void> {
  if (screenshots) mkdirSync(screenshots, { recursive: true });
  // Each channel from its top: its first recommendations side by side.
  for (const frame of page.frames()) await frame.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: screenshots ? join(screenshots, `${name}.png`) : testInfo.outputPath(`${name}.png`) });
}
