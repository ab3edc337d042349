import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test as base } from '@playwright/test';

interface Demo {
  url: string;
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
}

/** Each test gets its own demo server (built files, fresh embedded database) on a free port. */
export const test = base.extend<Fixtures>({
  presentAs: ['shopper', { option: true }],
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
  // biome-ignore lint/correctness/noEmptyPattern: Playwright's fixture signature.
  demo: async ({}, use) => {
    const { startDemo } = await import('../../demo/serve.mjs');
    const demo = await startDemo({ port: 0, dataDir: mkdtempSync(join(tmpdir(), 'omnipersona-e2e-')) });
    await use(demo);
    await demo.close();
  },
});

export { expect } from '@playwright/test';
