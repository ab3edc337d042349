import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test as base } from '@playwright/test';

interface Demo {
  url: string;
  close(): Promise<void>;
}

/** Each test gets its own demo server (built files, fresh embedded database) on a free port. */
export const test = base.extend<{ demo: Demo }>({
  // biome-ignore lint/correctness/noEmptyPattern: Playwright's fixture signature.
  demo: async ({}, use) => {
    const { startDemo } = await import('../../demo/serve.mjs');
    const demo = await startDemo({ port: 0, dataDir: mkdtempSync(join(tmpdir(), 'omnipersona-e2e-')) });
    await use(demo);
    await demo.close();
  },
});

export { expect } from '@playwright/test';
