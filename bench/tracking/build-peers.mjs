import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const require = createRequire(import.meta.url);

/** The peers measured next to ours: the package a shop installs and the entry that imports it. */
export const PEERS = [
  { name: 'segment', label: 'Segment', pkg: '@segment/analytics-next' },
  { name: 'snowplow', label: 'Snowplow', pkg: '@snowplow/browser-tracker' },
];

/**
 * Bundles each peer as a shop would ship it: a production, minified ES2022 build of only the
 * exports the page uses, with the peer's lazy chunks split out as it intends. Not Vite's library
 * mode, which leaves ES output unminified and would overstate the peers' size.
 *
 * @param {string} outDir where `<peer>/<peer>.js` and its chunks are written
 * @returns {Promise<{ name: string, label: string, pkg: string, version: string }[]>}
 */
export async function buildPeers(outDir) {
  const built = [];
  for (const peer of PEERS) {
    await build({
      configFile: false,
      envDir: false,
      root: fileURLToPath(new URL('.', import.meta.url)),
      mode: 'production',
      logLevel: 'warn',
      publicDir: false,
      base: './',
      build: {
        outDir: join(outDir, peer.name),
        emptyOutDir: true,
        target: 'es2022',
        minify: true,
        sourcemap: false,
        modulePreload: false,
        reportCompressedSize: false,
        rolldownOptions: {
          input: { [peer.name]: fileURLToPath(new URL(`entries/${peer.name}.mjs`, import.meta.url)) },
          preserveEntrySignatures: 'strict',
          output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
        },
      },
    });
    built.push({ ...peer, version: require(`${peer.pkg}/package.json`).version });
  }
  return built;
}
