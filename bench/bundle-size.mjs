import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';

/** Raw and gzipped size of every file a shopper may download from dist/ (not the npm package, not source maps). */
export function measureBundleSizes(dist) {
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) {
        if (entry !== 'npm') walk(path);
      } else if (!entry.endsWith('.map')) {
        files.push(path);
      }
    }
  };
  walk(dist);
  return files
    .map((path) => {
      const content = readFileSync(path);
      return { file: relative(dist, path), bytes: content.length, gzip: gzipSync(content, { level: 9 }).length };
    })
    .sort((a, b) => a.file.localeCompare(b.file));
}
