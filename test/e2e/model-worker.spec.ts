import type { Page } from '@playwright/test';
import { expect, test } from './demo-server.js';
import { watchPage } from './page-problems.js';

interface CatalogEntry {
  id: string;
  category: string[];
}

/**
 * The demo page with the model on WebGL, where training compiles shaders and reads results back —
 * seconds of work on this machine's software GPU — and, for the comparison, with the worker off.
 * Training runs when the test asks (`train()`), not on its own.
 */
async function serveDemo(page: Page, url: string, worker: boolean): Promise<void> {
  await page.route(`${url}/`, async (route) => {
    const response = await route.fetch();
    const html = await response.text();
    const tag = /<script\b[^>]*\bsrc="\/sdk\/omnipersona\.js"[^>]*>/u.exec(html)?.[0];
    if (!tag) throw new Error('the test shop’s index.html has no SDK script tag');
    const changed = tag
      .replace('data-consent="federated"', 'data-consent="on-device"')
      .replace(/data-train-after="\d+"/u, 'data-train-after="0"')
      .replace(/>$/u, ` data-backend="webgl"${worker ? '' : ' data-model-worker="false"'}>`);
    await route.fulfill({ response, body: html.replace(tag, changed) });
  });
  // Every long task (50 ms or more) of the page's main thread, from the start.
  await page.addInitScript(() => {
    const tasks: Array<{ start: number; duration: number }> = [];
    (window as unknown as { longTasks: typeof tasks }).longTasks = tasks;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) tasks.push({ start: entry.startTime, duration: entry.duration });
    }).observe({ type: 'longtask', buffered: true });
  });
}

/**
 * Views three products, then trains the model and ranks with it, and returns the long tasks of that
 * training and ranking: the page's own work (rendering the clicked products) is not measured.
 */
async function longTasksWhileTraining(page: Page, url: string, products: CatalogEntry[]) {
  await page.goto(`${url}/`);
  await page.evaluate(() => window.omnipersona?.status?.());
  for (const product of products) await page.locator(`#grid [data-omnipersona-card="${product.id}"]`).click();
  await page.evaluate(() => window.omnipersona?.flush?.());
  await page.waitForTimeout(500);
  const since = await page.evaluate(() => performance.now());
  const report = await page.evaluate(() => window.omnipersona?.train?.());
  expect(report?.backend).toBe('webgl');
  await page.evaluate(() => window.omnipersona?.recommend?.({ kind: 'for-you', count: 6 }));
  const tasks = await page.evaluate(
    (start) =>
      (window as unknown as { longTasks: Array<{ start: number; duration: number }> }).longTasks.filter(
        (task) => task.start >= start,
      ),
    since,
  );
  return tasks.map((task) => Math.round(task.duration));
}

test('training in the worker leaves the main thread without long tasks; on the main thread it does not', async ({
  page,
  context,
  demo,
}) => {
  const catalog = (await (await fetch(`${demo.url}/catalog.json`)).json()) as CatalogEntry[];
  const inCategory = (category: string) => catalog.filter((item) => item.category[0] === category).slice(0, 3);

  const inWorker = page;
  const problems = watchPage(inWorker);
  await serveDemo(inWorker, demo.url, true);
  const workerTasks = await longTasksWhileTraining(inWorker, demo.url, inCategory('Kitchen'));
  expect(inWorker.workers().map((worker) => worker.url())).toContainEqual(
    expect.stringMatching(/\/sdk\/worker\/model-worker-/u),
  );
  expect(problems.all).toEqual([]);
  await inWorker.close();

  // Other products: the same views again within seconds would be dropped as repeats.
  const onMain = await context.newPage();
  await serveDemo(onMain, demo.url, false);
  const mainTasks = await longTasksWhileTraining(onMain, demo.url, inCategory('Coffee'));
  await onMain.close();

  console.log(
    `long tasks while training on WebGL: worker ${JSON.stringify(workerTasks)} ms, main thread ${JSON.stringify(mainTasks)} ms`,
  );
  // The measurement sees the training when it runs on the main thread...
  expect(mainTasks.length).toBeGreaterThan(0);
  // ...and the worker keeps all of it off the main thread.
  expect(workerTasks).toEqual([]);
});

test('of two tabs of the shop, one trains and the other takes its result', async ({ page, context, demo }) => {
  const catalog = (await (await fetch(`${demo.url}/catalog.json`)).json()) as CatalogEntry[];
  const products = catalog.filter((item) => item.category[0] === 'Outdoor').slice(0, 4);
  const tabs = [page, await context.newPage()];
  for (const tab of tabs) {
    // WebGL holds the training for seconds here, long enough for both tabs to ask at once.
    await serveDemo(tab, demo.url, true);
    await tab.goto(`${demo.url}/`);
    await tab.evaluate(() => window.omnipersona?.status?.());
    await tab.evaluate(() => {
      (window as unknown as { changes: string[] }).changes = [];
      window.omnipersona?.on?.('changed', (change) =>
        (window as unknown as { changes: string[] }).changes.push(change.reason),
      );
    });
  }
  // Events from both tabs go to the one shared log.
  await tabs[0]?.evaluate((items) => {
    for (const item of items.slice(0, 2)) window.omnipersona?.('track', { type: 'view', item });
    return window.omnipersona?.flush?.();
  }, products);
  await tabs[1]?.evaluate((items) => {
    for (const item of items.slice(2)) window.omnipersona?.('track', { type: 'view', item });
    return window.omnipersona?.flush?.();
  }, products);

  const reports = await Promise.all(tabs.map((tab) => tab.evaluate(() => window.omnipersona?.train?.())));
  const trained = reports.filter((report) => report !== undefined && report !== null);
  expect(trained).toHaveLength(1);
  const leader = reports[0] ? 0 : 1;
  const follower = tabs[1 - leader] as Page;
  // The leader trained on every event of the shared log: its examples come from both tabs.
  expect(trained[0]?.examples).toBe(3);
  await expect
    .poll(() => follower.evaluate(() => (window as unknown as { changes: string[] }).changes))
    .toContain('trained');
  const followerStatus = await follower.evaluate(() => window.omnipersona?.status?.());
  expect(followerStatus?.lastTraining).toEqual(trained[0]);
  // The follower recommends with the leader's weights: the same picks from the same history.
  const picks = await Promise.all(
    tabs.map((tab) =>
      tab.evaluate(() =>
        window.omnipersona?.recommend?.({ kind: 'for-you', count: 5 }).then((recs) => recs.map((rec) => rec.item.id)),
      ),
    ),
  );
  expect(picks[1]).toEqual(picks[0]);
});
