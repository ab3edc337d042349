import type { Page } from '@playwright/test';
import type { CatalogItem } from '../../src/core/catalog.js';
import { initialWeights, type ModelConfig } from '../../src/core/model/model-spec.js';
import { encodePriorFile } from '../../src/core/sync/prior-file.js';
import { expect, test } from './demo-server.js';
import { watchPage } from './page-problems.js';
import { forYou } from './widget-cards.js';

const PRIOR_PATH = '/static/omnipersona-prior.bin';
/** A sync server nobody answers at: the connection is refused. */
const UNREACHABLE = 'http://127.0.0.1:9';
const PRIOR_VERSION = 5;

/**
 * Serves the demo page with its script tag pointed at a sync server that cannot be reached, with
 * consent `on-device`, no automatic training (the prior's own picks are what the test reads), and
 * `data-prior`; and serves `prior` at {@link PRIOR_PATH} on the shop's origin, like a static file.
 */
async function serveShopWithPrior(page: Page, url: string, prior: Uint8Array): Promise<void> {
  await page.route(`${url}/`, async (route) => {
    const response = await route.fetch();
    const html = await response.text();
    const tag = /<script\b[^>]*\bsrc="\/sdk\/omnipersona\.js"[^>]*>/u;
    const original = tag.exec(html)?.[0];
    if (!original?.includes('data-endpoint="/"')) {
      throw new Error(
        `the test shop’s index.html has no SDK script tag with data-endpoint="/" to rewrite: ${original}`,
      );
    }
    const rewritten = original
      .replace('data-endpoint="/"', `data-endpoint="${UNREACHABLE}" data-prior="${PRIOR_PATH}"`)
      .replace(/data-consent="[^"]*"/u, 'data-consent="on-device"')
      .replace(/data-train-after="[^"]*"/u, 'data-train-after="0"');
    await route.fulfill({ response, body: html.replace(original, rewritten) });
  });
  await page.route(`${url}${PRIOR_PATH}`, (route) =>
    route.fulfill({ contentType: 'application/octet-stream', body: Buffer.from(prior) }),
  );
}

/** The demo's catalog as its server publishes it, and a model over it whose favourites are `favourites`. */
async function priorFor(url: string, favourites: (items: CatalogItem[]) => string[]) {
  const { items, version } = (await (await fetch(`${url}/v1/catalog`)).json()) as {
    items: CatalogItem[];
    version: number;
  };
  const manifest = (await (await fetch(`${url}/v1/model`)).json()) as { config: ModelConfig };
  const weights = initialWeights(manifest.config, 11);
  const picks = favourites(items);
  const bias = weights.item_bias?.data as Float32Array;
  picks.forEach((id, rank) => {
    bias[items.findIndex((item) => item.id === id)] = 10 - rank;
  });
  const bytes = encodePriorFile(
    { version: PRIOR_VERSION, catalogVersion: version, config: manifest.config, items, weights },
    'F16',
  );
  return { bytes, picks, items };
}

test('with the sync server unreachable, recommendations come from the prior the shop serves', async ({
  page,
  context,
  demo,
}) => {
  const problems = watchPage(page);
  // The favourites are the last three items of the catalog: rows nothing else favours.
  const prior = await priorFor(demo.url, (items) => items.slice(-3).map((item) => item.id));
  await serveShopWithPrior(page, demo.url, prior.bytes);
  await context.addCookies([{ name: 'session', value: 'shopper-42', url: demo.url }]);
  const priorRequests: Array<Record<string, string>> = [];
  page.on('request', async (request) => {
    if (request.url().endsWith(PRIOR_PATH)) priorRequests.push(await request.allHeaders());
  });
  const refused: string[] = [];
  page.on('requestfailed', (request) => {
    if (request.url().startsWith(UNREACHABLE)) refused.push(request.url());
  });

  await page.goto(`${demo.url}/`);
  await expect.poll(async () => (await forYou(page)).slice(0, 3), { timeout: 60_000 }).toEqual(prior.picks);
  const status = await page.evaluate(() => window.omnipersona?.status?.());
  expect(status?.modelVersion).toBe(PRIOR_VERSION);
  expect(status?.catalogSize).toBe(prior.items.length);
  // The server was tried first, and could not be reached.
  expect(refused.some((url) => url.endsWith('/v1/model'))).toBe(true);
  // The prior is fetched once, from the shop's origin, without the shop's cookies.
  expect(priorRequests).toHaveLength(1);
  expect(priorRequests[0]?.cookie).toBeUndefined();
  expect(problems.all).toEqual([]);
});

test('a prior that is not a model is reported, and the device builds its own model', async ({ page, demo }) => {
  const problems = watchPage(page);
  await serveShopWithPrior(page, demo.url, new TextEncoder().encode('<!doctype html><p>Our new look!</p>'));
  await page.goto(`${demo.url}/`);
  const first = page.locator('#grid [data-omnipersona-card]').first();
  const id = (await first.getAttribute('data-omnipersona-card')) ?? '';
  await first.click();
  await expect(page.locator('#product article')).toHaveAttribute('data-omnipersona-item', new RegExp(id));
  // Before the view the device knew no item to build a model from; a recommendation after it does.
  const modelVersion = () =>
    page.evaluate(async () => {
      await window.omnipersona?.recommend?.({ kind: 'for-you', count: 3 });
      return (await window.omnipersona?.status?.())?.modelVersion;
    });
  await expect.poll(modelVersion, { timeout: 60_000 }).toBe(0);
  expect(problems.warnings).toContainEqual(
    expect.stringMatching(
      /^\[omnipersona\] The prior at http:\/\/\S+\/static\/omnipersona-prior\.bin cannot be used: Invalid tensor payload/u,
    ),
  );
  expect(problems.pageErrors).toEqual([]);
});
