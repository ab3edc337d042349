// Builds the demo's app channel (an SPA that imports the `omnipersona` npm package) into
// demo/app/dist, served at /app/. `npm run demo` builds it after the package.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/app/',
  publicDir: false,
  logLevel: 'warn',
  resolve: {
    // The package as a shop's app installs it: its built `dist/npm`, through its own exports map.
    alias: { omnipersona: fileURLToPath(new URL('../../dist/npm/index.js', import.meta.url)) },
  },
  worker: { format: 'es' },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
});
