import { existsSync } from 'node:fs';

/**
 * Where the browser tests find Chromium, in order: the OMNIPERSONA_CHROMIUM or CHROMIUM_PATH
 * environment variable, the system Chromium, then Playwright's own download if there is one.
 * Returns undefined when there is none.
 */
export async function findChromium() {
  const fromEnv = process.env.OMNIPERSONA_CHROMIUM ?? process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`Chromium named by the environment is missing: ${fromEnv}`);
    return fromEnv;
  }
  for (const path of ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']) {
    if (existsSync(path)) return path;
  }
  try {
    const { chromium } = await import('@playwright/test');
    const own = chromium.executablePath();
    if (own && existsSync(own)) return own;
  } catch {
    // Playwright has no browser of its own here.
  }
  return undefined;
}
