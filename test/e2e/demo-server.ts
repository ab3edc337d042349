import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test as base } from '@playwright/test';

/** The pages and catalog the browser tests shop in. */
const TEST_SHOP = fileURLToPath(new URL('shop', import.meta.url));

interface Demo {
  url: string;
  siteSecret: string;
  adminToken: string;
  close(): Promise<void>;
}

interface Fixtures {
  demo: Demo;
  /**
   * How the browser presents itself. `'shopper'` (the default) hides what marks Playwright's
   * headless Chromium as automation — a `HeadlessChrome` user agent and `navigator.webdriver` —
   * so that the SDK's bot filter, on by default, records these tests as it would a person.
   * `'automation'` leaves the browser as Playwright starts it.
   */
  presentAs: 'shopper' | 'automation';
  /** Updates per federated round on the demo server: 1 (the demo's) makes every update a new version. */
  roundSize: number;
}

/** Each test gets its own demo server (built files, fresh embedded database) on a free port. */
export const test = base.extend<Fixtures>({
  presentAs: ['shopper', { option: true }],
  roundSize: [1, { option: true }],
  userAgent: async ({ browser, presentAs }, use) => {
    // The desktop Chrome user agent of this very browser, without the headless marker.
    const major = browser.version().split('.')[0];
    await use(
      presentAs === 'shopper'
        ? `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${major}.0.0.0 Safari/537.36`
        : undefined,
    );
  },
  context: async ({ context, presentAs }, use) => {
    if (presentAs === 'shopper') {
      await context.addInitScript(() => {
        Object.defineProperty(Navigator.prototype, 'webdriver', { configurable: true, get: () => false });
      });
    }
    await use(context);
  },
  demo: async ({ roundSize }, use) => {
    const { startDemo } = await import('../../demo/serve.mjs');
    // The tests' own shop (test/e2e/shop): a small catalog, no trained model.
    const demo = await startDemo({
      port: 0,
      roundSize,
      dataDir: mkdtempSync(join(tmpdir(), 'omnipersona-e2e-')),
      pages: TEST_SHOP,
      catalog: join(TEST_SHOP, 'catalog.json'),
    });
    await use(demo);
    await demo.close();
  },
});

export { expect } from '@playwright/test';
