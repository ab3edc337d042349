#!/usr/bin/env node
// Runs every benchmark under bench/ and prints one table each; JSON results go to bench/results/.
// Needs `npm run build` first (the benchmarks measure the shipped files), and Chromium for the
// tracking and ML benchmarks (found as the browser tests find it).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureBundleSizes } from './bundle-size.mjs';
import { runMlBench } from './ml.mjs';
import { runSyncBench } from './sync.mjs';
import { runTrackingBench } from './tracking.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const results = join(here, 'results');
mkdirSync(results, { recursive: true });

const dist = join(here, '..', 'dist');
const sizes = measureBundleSizes(dist);
console.log('Bundle sizes (what a shopper downloads)');
console.table(
  sizes.map(({ file, bytes, gzip }) => ({
    file,
    KiB: (bytes / 1024).toFixed(1),
    'KiB gzip': (gzip / 1024).toFixed(1),
  })),
);
writeFileSync(
  join(results, 'bundle-size.json'),
  `${JSON.stringify({ measuredAt: new Date().toISOString(), sizes }, null, 2)}\n`,
);
console.log(`JSON: ${join('bench', 'results', 'bundle-size.json')}`);

await runTrackingBench({ dist, results });
await runMlBench({ dist, results });
await runSyncBench({ results });
