import type { Page } from '@playwright/test';
import { expect, FAST, sdkLoaded, sdkTag, serveFixture, storedEvents, test } from './fixtures/capture-page.js';
import { watchPage } from './page-problems.js';

/**
 * Hides or shows the tab. Headless Chromium keeps every page visible (switching or minimising
 * windows changes nothing), so the page's visibility is set the way the browser reports it: the
 * `visibilityState` and `hidden` getters, and a `visibilitychange` event.
 */
async function setTabHidden(page: Page, hidden: boolean): Promise<void> {
  await page.evaluate((value) => {
    Object.defineProperty(document, 'visibilityState', {
      configurable: true,
      get: () => (value ? 'hidden' : 'visible'),
    });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => value });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

test('dwell counts only the time the product is in view in a visible tab; scroll depth is the most of the page seen', async ({
  page,
  origin,
}) => {
  const problems = watchPage(page);
  await serveFixture(page, `${origin}/lamp`, 'long-product.html', sdkTag('dwell'));
  await serveFixture(page, `${origin}/elsewhere`, 'long-product.html', '');
  await page.setViewportSize({ width: 1000, height: 800 });
  await page.goto(`${origin}/lamp`);
  await sdkLoaded(page);
  await expect.poll(async () => (await storedEvents(page, 'dwell', 'view')).length, FAST).toBe(1);
  // The page's clock marks when each visible stretch begins and ends: first the view, when dwell starts.
  const marks = [(await storedEvents(page, 'dwell', 'view'))[0]?.time ?? Number.NaN];
  const mark = async (change: string) => {
    marks.push(
      await page.evaluate((script) => {
        new Function(script)();
        return Date.now();
      }, change),
    );
  };

  await page.waitForTimeout(400); // visible: counts
  await mark("document.getElementById('product').style.display = 'none'");
  await page.waitForTimeout(700); // the product is not shown
  await mark("document.getElementById('product').style.display = ''");
  await page.waitForTimeout(300); // counts
  await setTabHidden(page, true);
  await mark('');
  await page.waitForTimeout(700); // the tab is hidden
  await setTabHidden(page, false);
  await mark('');
  await page.waitForTimeout(200); // counts
  await mark('scrollTo(0, 2000)'); // the product leaves the viewport
  await page.waitForTimeout(700);
  await mark('scrollTo(0, 0)');
  await page.waitForTimeout(200); // counts
  await mark('');
  // Leaving the page reports what is left (pagehide); the next page reads the same database.
  await page.goto(`${origin}/elsewhere`);

  const engagement = await storedEvents(page, 'dwell', 'engagement');
  // One report when the tab was hidden (it might never have come back), one when the page was left.
  expect(engagement.map((event) => event.item?.id)).toEqual(['lamp-5', 'lamp-5']);
  const dwellMs = engagement.reduce((sum, event) => sum + (event.dwellMs ?? 0), 0);
  const at = (index: number) => marks[index] ?? Number.NaN;
  const visible = at(1) - at(0) + (at(3) - at(2)) + (at(5) - at(4)) + (at(7) - at(6));
  const hidden = at(2) - at(1) + (at(4) - at(3)) + (at(6) - at(5));
  console.log(
    `dwell ${engagement.map((event) => event.dwellMs).join(' + ')} = ${dwellMs} ms; visible ${Math.round(visible)} ms, hidden ${Math.round(hidden)} ms`,
  );
  // Within a few frames of the visible time (observers report on the next frame; leaving takes a
  // moment); a hidden stretch counted would add at least 700 ms.
  expect(Math.abs(dwellMs - visible)).toBeLessThan(250);
  // Before scrolling: the first 800 of 4000 px; then down to 2800 px.
  expect(engagement.map((event) => event.scrollDepth)).toEqual([0.2, 0.7]);
  expect(problems.all).toEqual([]);
});
