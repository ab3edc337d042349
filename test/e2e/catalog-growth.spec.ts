import { expect, test } from './demo-server.js';
import { watchPage } from './page-problems.js';

test('an item the server model lacks, seen on the page, is recommended and trained on in the browser', async ({
  page,
  demo,
}) => {
  const problems = watchPage(page);
  const catalog = (await (await fetch(`${demo.url}/catalog.json`)).json()) as Array<{ id: string; category: string[] }>;
  const coffees = catalog.filter((item) => item.category[0] === 'Coffee').map((item) => item.id);
  await page.goto(`${demo.url}/`);
  await expect(page.locator('#for-you[data-omnipersona-state="ready"]')).toBeVisible();

  // The shop's page shows a coffee the sync server has never heard of, and the shopper views it.
  const fresh = { id: 'local-roast', name: 'Local roast', category: 'Coffee', brand: 'Corner Roasters', price: 11 };
  const anchor = coffees[0] as string;
  const similar = await page.evaluate(
    async ({ item, anchor }) => {
      const sdk = window.omnipersona;
      sdk?.track?.({ type: 'view', item });
      await sdk?.flush?.();
      const picks = await sdk?.recommend?.({ kind: 'similar', item: anchor, category: 'Coffee', count: 50 });
      return picks?.map((pick) => ({ id: pick.item.id, score: pick.score })) ?? [];
    },
    { item: fresh, anchor },
  );
  // Every other coffee is ranked, and the new one with them: it has a row, placed by its side features.
  expect(similar).toHaveLength(coffees.length);
  // Scored by the model: an item without a row would rank last at minus infinity (null once serialised).
  const score = similar.find((pick) => pick.id === fresh.id)?.score;
  expect(Number.isFinite(score)).toBe(true);

  // Then a known coffee: the step from the new item to it is a training example only if the new
  // item has a row in the model (an item without one would leave a single step, and no example).
  await page.evaluate(async (next) => {
    window.omnipersona?.track?.({ type: 'view', item: { id: next } });
    await window.omnipersona?.flush?.();
  }, anchor);
  // A run the SDK started by itself after the first view (one step, nothing to learn) may still be
  // going: train() then answers with it, and the next call runs on the whole log.
  const trainedOn = () => page.evaluate(async () => (await window.omnipersona?.train?.())?.examples);
  await expect.poll(trainedOn, { timeout: 30_000 }).toBe(1);
  const status = await page.evaluate(() => window.omnipersona?.status?.());
  expect(status?.catalogSize).toBe(catalog.length + 1);
  expect(problems.pageErrors).toEqual([]);
});
