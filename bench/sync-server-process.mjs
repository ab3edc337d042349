#!/usr/bin/env node
// The sync server of the throughput benchmark, in a process of its own as it is deployed, so that
// the clients' work is not counted against it. Options come as JSON in argv[2]; it imports a catalog
// of `items` products, listens on a free port and prints `{"url": ...}`; SIGTERM prints the CPU time
// the process (all its threads) used since then, `{"cpuSeconds": ...}`, and closes it.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { createSyncServer } = await import(join(root, 'dist', 'npm', 'server', 'index.js'));
const { items, ...options } = JSON.parse(process.argv[2] ?? '{}');
const server = await createSyncServer({ ...options, logger: { info() {}, error: console.error } });
await server.importCatalog(
  Array.from({ length: items }, (_, i) => ({ id: `sku-${i}`, category: `C${i % 20}`, brand: `B${i % 50}` })),
);
const { url } = await server.listen({ port: 0 });
const listening = process.cpuUsage();
console.log(JSON.stringify({ url }));
process.once('SIGTERM', async () => {
  const { user, system } = process.cpuUsage(listening);
  console.log(JSON.stringify({ cpuSeconds: (user + system) / 1e6 }));
  await server.close();
  process.exit(0);
});
