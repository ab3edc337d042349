// Makes sure the browser tests have a Chromium: finds one, or installs Debian's as root, or says how.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { findChromium } from './find-chromium.mjs';

let path = await findChromium();
if (!path && existsSync('/etc/debian_version') && process.getuid?.() === 0) {
  console.log("No Chromium found; installing Debian's chromium package...");
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  path = await findChromium();
}
if (!path) {
  console.error(
    'The browser tests need Chromium and none was found.\n' +
      'Set OMNIPERSONA_CHROMIUM=/path/to/chromium, install it (Debian/Ubuntu: sudo apt-get install chromium),\n' +
      'or let Playwright download its own (npx playwright install chromium).',
  );
  process.exit(1);
}
console.log(`Chromium: ${path}`);
