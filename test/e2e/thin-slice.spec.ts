import type { Page } from '@playwright/test';
import { expect, test } from './demo-server.js';
import { forYou } from './widget-cards.js';

/** Reads the events the SDK stored, straight from IndexedDB. */
async function storedEvents(page: Page): Promise<Array<{ type: string; time: number; item?: { id: string } }>> {
  const events = await page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('omnipersona:demo');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const request = open.result.transaction('events').objectStore('events').getAll();
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(request.error);
        };
      }),
  );
  return (events as Array<{ type: string; time: number; item?: { id: string } }>).sort((a, b) => a.time - b.time);
}

async function serverVersion(url: string): Promise<number> {
  const response = await fetch(`${url}/v1/model`);
  return ((await response.json()) as { version: number }).version;
}

test('a click becomes a stored event, trains the on-device model, changes recommendations and updates the server model', async ({
  page,
  demo,
}) => {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  const weightDownloads: string[] = [];
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
    if (response.url().includes('/v1/model/weights/')) weightDownloads.push(new URL(response.url()).search);
  });
  page.on('console', (message) => {
    if (message.text().startsWith('Failed to load resource')) return; // reported with its URL above
    if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
  });
  const catalog = (await (await fetch(`${demo.url}/catalog.json`)).json()) as Array<{ id: string; category: string[] }>;
  const categoryOf = new Map(catalog.map((item) => [item.id, item.category[0]]));
  const startVersion = await serverVersion(demo.url);
  expect(startVersion).toBeGreaterThanOrEqual(1);

  await page.goto(`${demo.url}/`);
  const before = await forYou(page);
  expect(before).toHaveLength(6);

  // The shopper looks at three coffees.
  const coffees = catalog.filter((item) => item.category[0] === 'Coffee').slice(0, 3);
  for (const coffee of coffees) {
    await page.locator(`#grid [data-omnipersona-card="${coffee.id}"]`).click();
    await expect(page.locator('#product article')).toHaveAttribute('data-omnipersona-item', new RegExp(coffee.id));
  }
  await expect.poll(async () => (await storedEvents(page)).filter((event) => event.type === 'view').length).toBe(3);
  const viewed = (await storedEvents(page)).filter((event) => event.type === 'view').map((event) => event.item?.id);
  expect(viewed).toEqual(coffees.map((coffee) => coffee.id));

  // The model trains on the device, on the backend the SDK picked.
  const lastTraining = () => page.evaluate(() => window.omnipersona?.status?.().then((s) => s.lastTraining));
  await expect.poll(lastTraining, { timeout: 60_000 }).toBeTruthy();
  const report = (await lastTraining()) as { backend: string; loss: number; initialLoss: number; examples: number };
  console.log(
    `trained on ${report.backend}: ${report.examples} examples, loss ${report.initialLoss.toFixed(3)} -> ${report.loss.toFixed(3)}`,
  );
  expect(['webgpu', 'webgl', 'wasm', 'cpu']).toContain(report.backend);
  expect(report.loss).toBeLessThan(report.initialLoss);
  // The global model came down as float16, half the bytes of float32.
  expect(weightDownloads.length).toBeGreaterThan(0);
  for (const search of weightDownloads) expect(search).toBe('?dtype=F16');

  // Recommendations follow the views: an unseen coffee first and most of the top three, and not the
  // list shown before.
  await expect
    .poll(async () => {
      const top = (await forYou(page)).slice(0, 3).map((id) => categoryOf.get(id));
      return top[0] === 'Coffee' && top.filter((category) => category === 'Coffee').length >= 2 ? 'coffee first' : top;
    })
    .toBe('coffee first');
  const after = await forYou(page);
  expect(after).not.toEqual(before);
  for (const coffee of coffees) expect(after).not.toContain(coffee.id);
  await expect(page.locator('#for-you .omnipersona-rec-reason').first()).toHaveText(/^Because you viewed /u);

  // The page pulled the global model and pushed its update; the server's version advanced.
  const status = await page.evaluate(() => window.omnipersona?.status?.());
  expect(status?.modelVersion).toBeGreaterThanOrEqual(startVersion);
  expect(status?.storage).toBe('indexeddb');
  await expect.poll(() => serverVersion(demo.url), { timeout: 30_000 }).toBeGreaterThan(startVersion);
  const synced = await page.evaluate(() => window.omnipersona?.status?.().then((s) => s.lastSync));
  expect(synced?.pushed).toBe(true);

  expect(problems).toEqual([]);
});

test('recommendations follow the co-visits the shop publishes from its order history', async ({ page, demo }) => {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  // Shoppers who viewed the first running shoe went on to a tent, and less often to a kitchen item:
  // pairs across departments that the untrained model has no reason to rank.
  const histories = [...Array(5).fill(['sku-001', 'sku-020']), ...Array(2).fill(['sku-001', 'sku-015'])];
  const published = await fetch(`${demo.url}/v1/co-visits`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${demo.adminToken}` },
    body: JSON.stringify({ histories }),
  });
  expect(await published.json()).toMatchObject({ changed: true, pairs: 2 });

  await page.goto(`${demo.url}/`);
  await page.locator('#grid [data-omnipersona-card="sku-001"]').click();
  await expect(page.locator('#product article')).toHaveAttribute('data-omnipersona-item', /sku-001/u);
  await expect.poll(async () => (await forYou(page)).slice(0, 2)).toEqual(['sku-020', 'sku-015']);
  await expect(page.locator('#for-you .omnipersona-rec-reason').first()).toHaveText(
    /^Shoppers who viewed .+ went on to this$/u,
  );
  const together = await page.evaluate(() =>
    window.omnipersona?.recommend?.({ kind: 'bought-together', item: 'sku-001', count: 2 }),
  );
  expect(together?.map((pick) => pick.item.id)).toEqual(['sku-020', 'sku-015']);
  expect(problems).toEqual([]);
});
