import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from '@playwright/test';
import { type CapturedEvent, expect, serveFixture, test } from './fixtures/capture-page.js';
import { watchPage } from './page-problems.js';

declare global {
  interface Window {
    ready: boolean;
    events: CapturedEvent[];
    errors: string[];
    startCapture: (options?: object) => () => void;
    stopCapture: () => void;
    originals: { pushState: History['pushState']; replaceState: History['replaceState']; push: unknown };
    dataLayer: unknown[];
  }
}

const valibot = readFileSync(
  createRequire(import.meta.url)
    .resolve('valibot')
    .replace(/index\.c?js$/u, 'index.mjs'),
  'utf8',
);

async function open(page: Page, origin: string): Promise<void> {
  await page.route(`${origin}/vendor/valibot.js`, (route) =>
    route.fulfill({ contentType: 'text/javascript', body: valibot }),
  );
  await serveFixture(page, `${origin}/npm-capture`, 'npm-capture.html', '');
  await page.goto(`${origin}/npm-capture`);
  await page.waitForFunction(() => window.ready);
}

/** The event types the sink received, after the debounced scan has had time to run. */
async function received(page: Page): Promise<string[]> {
  await page.waitForTimeout(250);
  return page.evaluate(() => window.events.map((event) => `${event.type}${event.item ? ` ${event.item.id}` : ''}`));
}

test('capture from the npm package reports a failing sink instead of throwing, and stop() restores what it wrapped', async ({
  page,
  origin,
}) => {
  const problems = watchPage(page);
  await open(page, origin);
  await page.evaluate(() => {
    window.stopCapture = window.startCapture();
  });
  expect(await received(page)).toEqual(['page']);
  const wrapped = await page.evaluate(() => ({
    history: history.pushState !== window.originals.pushState && history.replaceState !== window.originals.replaceState,
    dataLayer: window.dataLayer.push !== window.originals.push,
  }));
  expect(wrapped).toEqual({ history: true, dataLayer: true });

  // The sink throws on the click: the page's own click handling goes on, the failure is reported once.
  await page.click('#card');
  await page.click('#card');
  expect(await page.evaluate(() => location.hash)).toBe('#/p/1');
  // The card's link is a hash route: the first page's engagement, then the new page.
  expect(await received(page)).toEqual(['page', 'engagement', 'page']);
  expect(await page.evaluate(() => window.errors)).toEqual(['Capturing a click event failed: the sink is broken']);

  // Stopping records what is pending: the engagement of the page being shown.
  await page.evaluate(() => window.stopCapture());
  expect(await received(page)).toEqual(['page', 'engagement', 'page', 'engagement']);
  const restored = await page.evaluate(() => ({
    pushState: history.pushState === window.originals.pushState,
    replaceState: history.replaceState === window.originals.replaceState,
    ownProperty: Object.hasOwn(history, 'pushState'),
    push: window.dataLayer.push === window.originals.push,
  }));
  expect(restored).toEqual({ pushState: true, replaceState: true, ownProperty: false, push: true });

  // Nothing is recorded any more, and history works as before.
  await page.evaluate(() => {
    history.pushState({ n: 1 }, '', '/npm-capture/after');
    window.dataLayer.push({ event: 'search', search_term: 'after stop' });
    const product = document.createElement('div');
    product.setAttribute('data-omnipersona-item', 'late');
    document.getElementById('main')?.append(product);
    scrollTo(0, 100);
  });
  expect(await page.evaluate(() => [location.pathname, history.state])).toEqual(['/npm-capture/after', { n: 1 }]);
  expect(await received(page)).toEqual(['page', 'engagement', 'page', 'engagement']);
  expect(problems.all).toEqual([]);
});

test('stop() leaves a wrapper another script added on top of capture working', async ({ page, origin }) => {
  const problems = watchPage(page);
  await open(page, origin);
  const calls = await page.evaluate(() => {
    const stop = window.startCapture({ dwell: false, scroll: false });
    let theirs = 0;
    const below = history.pushState;
    history.pushState = function (...args: Parameters<History['pushState']>) {
      theirs++;
      return below.apply(this, args);
    };
    const layerBelow = window.dataLayer.push;
    window.dataLayer.push = (...items: unknown[]) => layerBelow.apply(window.dataLayer, items);
    stop();
    history.pushState(null, '', '/npm-capture/one');
    history.pushState(null, '', '/npm-capture/two');
    return { theirs, path: location.pathname, length: window.dataLayer.push({ event: 'x' }) };
  });
  expect(calls).toEqual({ theirs: 2, path: '/npm-capture/two', length: 1 });
  // Stopping recorded the pending page event; nothing after it.
  expect(await received(page)).toEqual(['page']);
  expect(problems.all).toEqual([]);
});
