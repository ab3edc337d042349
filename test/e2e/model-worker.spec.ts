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
 */
async function serveDemo(page: Page, url: string, worker: boolean): Promise<void> {
  await page.route(`${url}/`, async (route) => {
    const response = await route.fetch();
    const html = await response.text();
    const tag = /<script\b[^>]*\bsrc="\/sdk\/omnipersona\.js"[^>]*>/u.exec(html)?.[0];
    if (!tag) throw new Error('demo/index.html has no SDK script tag');
    const changed = tag
      .replace('data-consent="federated"', 'data-consent="on-device"')
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

/** Views three products, waits for the model to train, and returns the long tasks since the first view. */
async function longTasksWhileTraining(page: Page, url: string, products: CatalogEntry[]) {
  await page.goto(`${url}/`);
  await page.evaluate(() => window.omnipersona?.status?.());
  // Let the page's own start (parsing, first render) settle before measuring.
  await page.waitForTimeout(500);
  const since = await page.evaluate(() => performance.now());
  for (const product of products) await page.locator(`#grid [data-omnipersona-card="${product.id}"]`).click();
  await expect
    .poll(() => page.evaluate(() => window.omnipersona?.status?.().then((s) => s.lastTraining?.backend)), {
      timeout: 90_000,
    })
    .toBe('webgl');
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
