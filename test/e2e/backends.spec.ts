import type { Page } from '@playwright/test';
import { expect, test } from './demo-server.js';
import { type PageProblems, watchPage } from './page-problems.js';

type Backend = 'webgpu' | 'webgl' | 'wasm' | 'cpu';

interface CatalogEntry {
  id: string;
  category: string[];
}

/**
 * Serves the demo page with its script tag changed: `data-backend` forces a backend, and consent is
 * `on-device` instead of `federated`. The model is still pulled from the server (GETs carry nothing
 * about the shopper), but no update is pushed after training, so each test measures the backend
 * alone, not a sync round, and the page sends nothing but GETs.
 */
async function serveDemoWithBackend(page: Page, url: string, backend: Backend, extra = ''): Promise<void> {
  await page.route(`${url}/`, async (route) => {
    const response = await route.fetch();
    const html = await response.text();
    const tag = /<script\b[^>]*\bsrc="\/sdk\/omnipersona\.js"[^>]*>/u;
    const original = tag.exec(html)?.[0];
    if (!original?.includes('data-consent="federated"')) {
      throw new Error(
        `the test shop’s index.html has no SDK script tag with federated consent to rewrite: ${original}`,
      );
    }
    const forced = original
      .replace('data-consent="federated"', 'data-consent="on-device"')
      .replace(/>$/u, ` data-backend="${backend}"${extra}>`);
    await route.fulfill({ response, body: html.replace(original, forced) });
  });
}

/** Opens the demo, views three products of one category, and waits for the first training. */
async function viewAndTrain(page: Page, url: string, products: CatalogEntry[], problems: PageProblems) {
  await page.goto(`${url}/`);
  await expect(page.locator(`script[src="/sdk/omnipersona.js"]`)).toHaveAttribute('data-consent', 'on-device');
  for (const product of products) {
    await page.locator(`#grid [data-omnipersona-card="${product.id}"]`).click();
    await expect(page.locator('#product article')).toHaveAttribute('data-omnipersona-item', new RegExp(product.id));
  }
  const lastTraining = () => page.evaluate(() => window.omnipersona?.status?.().then((s) => s.lastTraining));
  // The idle trainer runs once three item events are new. It may start before the last view (a
  // loaded machine idles between clicks) and then see fewer examples, with too few events left for
  // another run: train on every view then, as a shop calling train() would. While waiting, the
  // page's problems are what the poll shows, so a timeout says why.
  const trainingState = async () => {
    const report = await lastTraining();
    if (report && report.examples >= products.length - 1) return 'trained on every view';
    return `${report ? `trained on ${report.examples} examples` : 'not trained'}; page problems: ${problems.all.join('\n')}`;
  };
  await expect
    .poll(async () => (await lastTraining()) !== undefined || trainingState(), { timeout: 60_000 })
    .toBe(true);
  if ((await trainingState()) !== 'trained on every view') await page.evaluate(() => window.omnipersona?.train?.());
  await expect.poll(trainingState, { timeout: 60_000 }).toBe('trained on every view');
  const report = await lastTraining();
  const status = await page.evaluate(() => window.omnipersona?.status?.());
  return { report, status };
}

/** The first three for-you picks, with their top-level category. */
async function topForYou(page: Page): Promise<Array<{ id: string; category: string | undefined }>> {
  const recommendations = await page.evaluate(() => window.omnipersona?.recommend?.({ kind: 'for-you', count: 3 }));
  return (recommendations ?? []).map((pick) => ({ id: pick.item.id, category: pick.item.category[0] }));
}

/**
 * Whether the picks follow a shopper who viewed only `category`: it comes first, and holds most of
 * the picks. Not all: items of other categories that share a brand or price band with the viewed
 * ones may rightly follow.
 */
function ledBy(categories: Array<string | undefined>, category: string): boolean {
  return categories[0] === category && categories.filter((each) => each === category).length * 2 > categories.length;
}

async function demoCatalog(url: string): Promise<CatalogEntry[]> {
  return (await (await fetch(`${url}/catalog.json`)).json()) as CatalogEntry[];
}

/** Each backend views a different category, so a category prior cannot pass for learning. */
const CASES: Array<{ backend: Backend; category: string }> = [
  { backend: 'webgpu', category: 'Coffee' },
  { backend: 'webgl', category: 'Kitchen' },
  { backend: 'wasm', category: 'Outdoor' },
  { backend: 'cpu', category: 'Running Shoes' },
];

for (const { backend, category } of CASES) {
  test(`data-backend="${backend}" trains and recommends on ${backend}`, async ({ page, demo }) => {
    const problems = watchPage(page);
    const sent: string[] = [];
    page.on('request', (request) => {
      if (request.method() !== 'GET') sent.push(`${request.method()} ${request.url()}`);
    });
    const backendChunks: string[] = [];
    page.on('response', (response) => {
      const chunk = /\/sdk\/(ml|worker)\/tfjs-backend-(webgpu|webgl|wasm|cpu)-[^/]*\.js$/u.exec(response.url());
      if (chunk?.[2]) backendChunks.push(`${chunk[1]}/${chunk[2]}`);
    });
    const products = (await demoCatalog(demo.url)).filter((item) => item.category[0] === category).slice(0, 3);
    expect(products).toHaveLength(3);
    // The GPUs here are software (SwiftShader): a step takes a second, so the 2 s default budget
    // would end the run after two or three steps. A longer budget tests the backend, not its speed.
    const budget = backend === 'webgpu' || backend === 'webgl' ? ' data-training-budget="8000"' : '';
    await serveDemoWithBackend(page, demo.url, backend, budget);

    const { report, status } = await viewAndTrain(page, demo.url, products, problems);
    console.log(
      `${backend}: ${report?.steps} steps on ${report?.examples} examples in ${report?.milliseconds} ms, loss ${report?.initialLoss.toFixed(3)} -> ${report?.loss.toFixed(3)}`,
    );
    expect(status?.backend).toBe(backend);
    expect(report?.backend).toBe(backend);
    // The model runs in the SDK's Web Worker: the backend was loaded there, and only there.
    expect(backendChunks).toContain(`worker/${backend}`);
    expect(backendChunks.filter((chunk) => chunk.startsWith('ml/'))).toEqual([]);
    expect(page.workers().map((worker) => worker.url())).toContainEqual(
      expect.stringMatching(/\/sdk\/worker\/model-worker-/u),
    );
    // `loss` is the loss of the last step, taken before its update: one step alone cannot show learning.
    expect(report?.loss, `loss after ${report?.steps} step(s) in ${report?.milliseconds} ms`).toBeLessThan(
      report?.initialLoss ?? Number.NaN,
    );

    const picks = await topForYou(page);
    expect(
      ledBy(
        picks.map((pick) => pick.category),
        category,
      ),
    ).toBe(true);
    for (const product of products) expect(picks.map((pick) => pick.id)).not.toContain(product.id);

    expect(sent).toEqual([]);
    expect(problems.all).toEqual([]);
  });
}

/** Ways WebGPU can fail on a real device, injected before any page script runs. */
const WEBGPU_FAILURES: Array<{ name: string; script: () => void; cause: RegExp }> = [
  {
    name: 'no adapter',
    cause: /^TypeError: Cannot read properties of null/u,
    script: () => {
      const scope = window as unknown as { __webgpuSabotaged: number };
      scope.__webgpuSabotaged = 0;
      Object.defineProperty(Object.getPrototypeOf(navigator.gpu), 'requestAdapter', {
        configurable: true,
        value: async () => {
          scope.__webgpuSabotaged++;
          return null;
        },
      });
    },
  },
  {
    name: 'requestDevice throws',
    cause: /^The device could not be created \(injected by the test\)$/u,
    script: () => {
      const scope = window as unknown as { __webgpuSabotaged: number };
      scope.__webgpuSabotaged = 0;
      Object.defineProperty(GPUAdapter.prototype, 'requestDevice', {
        configurable: true,
        value: async () => {
          scope.__webgpuSabotaged++;
          throw new DOMException('The device could not be created (injected by the test)', 'OperationError');
        },
      });
    },
  },
];

for (const failure of WEBGPU_FAILURES) {
  test(`data-backend="webgpu" falls back to another backend when WebGPU fails (${failure.name})`, async ({
    page,
    demo,
  }) => {
    const problems = watchPage(page);
    await page.addInitScript(failure.script);
    const products = (await demoCatalog(demo.url)).filter((item) => item.category[0] === 'Coffee').slice(0, 3);
    // The failure is injected into the page, so the model runs on the main thread here; the
    // failover code is the same in the worker.
    await serveDemoWithBackend(page, demo.url, 'webgpu', ' data-model-worker="false"');

    const { report, status } = await viewAndTrain(page, demo.url, products, problems);
    console.log(`webgpu (${failure.name}) fell back to ${status?.backend}`);
    // The failure was really hit: WebGPU was tried, not skipped.
    expect(
      await page.evaluate(() => (window as unknown as { __webgpuSabotaged: number }).__webgpuSabotaged),
    ).toBeGreaterThan(0);
    expect(['webgl', 'wasm', 'cpu']).toContain(status?.backend);
    expect(report?.backend).toBe(status?.backend);
    expect(report?.loss).toBeLessThan(report?.initialLoss ?? Number.NaN);

    const picks = await topForYou(page);
    expect(
      ledBy(
        picks.map((pick) => pick.category),
        'Coffee',
      ),
    ).toBe(true);
    for (const product of products) expect(picks.map((pick) => pick.id)).not.toContain(product.id);
    // A failed backend is not the page's problem: nothing is thrown, and the for-you widget fills.
    await expect(page.locator('#for-you[data-omnipersona-state="ready"] [data-omnipersona-card]')).toHaveCount(6);
    // TF.js itself warns that WebGPU failed, and why; nothing else goes wrong.
    expect(problems.all).toEqual(['warning: Initialization of backend webgpu failed', expect.anything()]);
    expect(problems.warnings[1]).toMatch(failure.cause);
  });
}
