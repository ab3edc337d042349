import { defineConfig } from '@playwright/test';
import { findChromium } from './scripts/find-chromium.mjs';

const executablePath = await findChromium();

/** Browser tests run against the built files (`npm run build` first), as a shop would serve them. */
export default defineConfig({
  testDir: 'test/e2e',
  timeout: 120_000,
  expect: { timeout: 30_000 },
  workers: 1,
  retries: 0,
  reporter: process.env.OMNIPERSONA_REPORT_DIR
    ? [['list'], ['json', { outputFile: `${process.env.OMNIPERSONA_REPORT_DIR}/browser.json` }]]
    : [['list']],
  use: {
    launchOptions: {
      ...(executablePath ? { executablePath } : {}),
      args: [
        '--enable-unsafe-webgpu',
        '--disable-quic',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
});
