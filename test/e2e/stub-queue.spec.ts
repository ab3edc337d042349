import { readFileSync } from 'node:fs';
import { expect, test } from './demo-server.js';
import { watchPage } from './page-problems.js';
import { readStoredEvents, type StoredEvent } from './stored-events.js';

/** The stub snippet, taken from the demo page so that this test uses exactly what shops copy. */
function stubSnippet(): string {
  const html = readFileSync(new URL('shop/index.html', import.meta.url), 'utf8');
  const snippet = /<script>\s*window\.omnipersona\s*=[\s\S]*?<\/script>/u.exec(html)?.[0];
  if (!snippet?.includes('window.omnipersona.q.push(args)'))
    throw new Error('the test shop’s index.html has no stub snippet');
  return snippet;
}

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Queued calls</title>
    ${stubSnippet()}
    <script async src="/sdk/omnipersona.js" data-site="queue" data-endpoint="/" data-consent="on-device" data-capture="false"></script>
  </head>
  <body><h1>Calls made before the SDK loads</h1></body>
</html>`;

interface Item {
  id: string;
  name: string;
  category: string[];
  price: number;
}

test('calls queued by the stub before the SDK loads are replayed in order, once it loads', async ({ page, demo }) => {
  const problems = watchPage(page);
  const catalog = (await (await fetch(`${demo.url}/catalog.json`)).json()) as Item[];
  const [first, second, third] = catalog.filter((item) => item.category[0] === 'Kitchen') as [Item, Item, Item];

  await page.route(`${demo.url}/queue.html`, (route) => route.fulfill({ contentType: 'text/html', body: PAGE }));
  // The SDK's response waits until every call below has been made.
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let sdkRequested = false;
  await page.route(`${demo.url}/sdk/omnipersona.js`, async (route) => {
    sdkRequested = true;
    await released;
    await route.continue();
  });
  // An async script delays the load event, which waits on the held SDK.
  await page.goto(`${demo.url}/queue.html`, { waitUntil: 'domcontentloaded' });

  const queued = await page.evaluate(
    ([a, b, c]) => {
      const op = window.omnipersona as (...args: unknown[]) => unknown;
      op('track', { type: 'custom', name: 'call-1' });
      op('track', { type: 'view', item: a });
      op('track', { type: 'view', item: { id: 'malformed-item', price: -5 } });
      op('track', { type: 'custom', name: 'call-2' });
      op('identify', 'user-1');
      op('track', { type: 'view', item: b });
      op('track', { type: 'custom', name: 'call-3' });
      op('track', { type: 'view', item: c });
      return {
        queued: (window.omnipersona as { q?: unknown[] }).q?.length,
        loaded: typeof window.omnipersona?.status === 'function',
      };
    },
    [first, second, third],
  );
  expect(queued).toEqual({ queued: 8, loaded: false });
  expect(sdkRequested).toBe(true);
  release();

  await expect.poll(() => page.evaluate(() => typeof window.omnipersona?.status)).toBe('function');
  await expect.poll(async () => (await readStoredEvents(page, 'queue')).length).toBe(6);
  const stored = await readStoredEvents(page, 'queue');
  const label = (event: StoredEvent) => (event.type === 'custom' ? event.name : event.item?.id);
  const beforeIdentify = ['call-1', first.id, 'call-2'];
  const afterIdentify = [second.id, 'call-3', third.id];
  const callOrder = [...beforeIdentify, ...afterIdentify];
  expect([...stored.map(label)].sort()).toEqual([...callOrder].sort());
  // The log is read back by time (IndexedDB's `time` index, ties broken by the random event id), so
  // the call order survives only if every call is stored with a later time than the call before it.
  // Soft, so that one run reports every broken promise of the queue, not only the first.
  const byTime = [...stored].sort((a, b) => a.time - b.time);
  const timeOf = new Map(stored.map((event) => [label(event), event.time]));
  const outOfOrder = callOrder
    .slice(1)
    .map((name, i) => ({ previous: callOrder[i] ?? '', name }))
    .filter(({ previous, name }) => !((timeOf.get(name) ?? 0) > (timeOf.get(previous) ?? 0)))
    .map(
      ({ previous, name }) =>
        `${name} (time ${timeOf.get(name)}) is not after ${previous} (time ${timeOf.get(previous)})`,
    );
  expect.soft(outOfOrder, `sorted by time: ${byTime.map(label).join(', ')}`).toEqual([]);
  // Calls before `identify` stay anonymous; calls after it belong to the user.
  const userOf = Object.fromEntries(stored.map((event) => [label(event), event.userId ?? 'anonymous']));
  expect
    .soft(userOf)
    .toEqual(
      Object.fromEntries([
        ...beforeIdentify.map((name) => [name, 'anonymous']),
        ...afterIdentify.map((name) => [name, 'user-1']),
      ]),
    );
  expect(new Set(stored.map((event) => event.anonymousId)).size).toBe(1);

  // The malformed event was dropped with exactly one warning naming the bad field.
  expect(stored.map((event) => event.item?.id)).not.toContain('malformed-item');
  expect(problems.warnings.filter((text) => text.includes('item.price'))).toHaveLength(1);

  // Once loaded, the same function takes commands, and returns results through a callback.
  const recent = await page.evaluate(
    () =>
      new Promise<string[] | 'no callback'>((resolve) => {
        setTimeout(() => resolve('no callback'), 10_000);
        (window.omnipersona as (...args: unknown[]) => unknown)(
          'recommend',
          { kind: 'recently-viewed' },
          (picks: Array<{ item: { id: string } }>) => resolve(picks.map((pick) => pick.item.id)),
        );
      }),
  );
  expect(Array.isArray(recent) ? [...recent].sort() : recent).toEqual([first.id, second.id, third.id].sort());

  // An unknown command warns once, however often it is called, and throws nothing into the page.
  const unknown = await page.evaluate(() => {
    const op = window.omnipersona as (...args: unknown[]) => unknown;
    try {
      return { results: [op('explode', 1), op('explode', 2)], threw: false };
    } catch {
      return { results: [], threw: true };
    }
  });
  expect(unknown).toEqual({ results: [undefined, undefined], threw: false });
  await expect.poll(() => problems.warnings.filter((text) => text.includes('"explode"'))).toHaveLength(1);

  expect(problems.pageErrors).toEqual([]);
  expect(problems.all).toEqual([
    expect.stringMatching(/^warning: \[omnipersona\] Invalid event at item\.price/u),
    expect.stringMatching(/^warning: \[omnipersona\] Unknown command "explode"/u),
  ]);
});
