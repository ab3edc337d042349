import { launchChromium, openBenchPage, withTimeout } from './browser.mjs';
import { sleep } from './stats.mjs';

/**
 * The timing of one round. 10,000 calls take ours well under a second; the peers' per-event work
 * (cookie and localStorage writes, one request per event) takes them milliseconds per call on a small
 * machine, so each round is capped in time to keep the whole bench to a few minutes.
 */
export const CALLS = { warmup: 1_000, calls: 10_000, group: 10, budgetMs: 15_000 };
export const PERSIST = { count: 20_000, runs: 3, timeoutMs: 60_000, pollMs: 10 };
/** Quiet time after a tracker reports ready, so its start-up work is not inside the first samples. */
const SETTLE_MS = 500;
/** How long a peer's first product view may take to reach the collector before its setup counts as broken. */
const DELIVERY_MS = 5_000;

/**
 * One timing round for one tracker, in its own browser launch: the harness baseline, then
 * `track()` timed per {@link CALLS}, then a check that the calls did their work (events stored for
 * ours, product views at the collector for a peer).
 *
 * @param {{ origin: string, collected: () => Record<string, number>, resetCollected: () => void }} server
 * @param {{ name: string }} tracker
 */
export async function timeTrackCalls(server, tracker) {
  const browser = await launchChromium();
  try {
    server.resetCollected();
    const bench = await openBenchPage(browser, `${server.origin}/${tracker.name}.html`);
    await sleep(SETTLE_MS);
    const { page } = bench;
    const baseline = await withTimeout(
      page.evaluate((o) => window.bench.baseline(o), CALLS),
      60_000,
      'The baseline',
    );
    const samples = await withTimeout(
      page.evaluate((o) => window.bench.time(o), CALLS),
      120_000,
      `Timing ${tracker.name}'s track()`,
    );
    const calls = samples.warmup + samples.samples.length * CALLS.group;
    const check = await checkWork(bench, server, tracker.name, calls);
    const fetched = await bench.fetched();
    await bench.close();
    return {
      version: browser.version(),
      samples: samples.samples,
      warmup: samples.warmup,
      baseline: baseline.samples,
      check,
      fetched,
      problems: bench.problems,
    };
  } finally {
    await browser.close();
  }
}

async function checkWork({ page }, server, name, expected) {
  if (name === 'ours') {
    await withTimeout(
      page.evaluate(() => window.bench.flush()),
      30_000,
      'Writing the timed events',
    );
    const status = await page.evaluate(() => window.bench.status());
    return { expected, stored: status.events, storage: status.storage, rejected: totalRejected(status.rejected) };
  }
  // A peer sends from its own queue at its own pace (Snowplow one request at a time), so it may lag
  // behind; views arriving at the collector prove the setup works.
  const deadline = Date.now() + DELIVERY_MS;
  while (server.collected()[name] === 0 && Date.now() < deadline) await sleep(100);
  return { expected, collected: server.collected()[name] };
}

/**
 * Events persisted per second by ours, {@link PERSIST}.runs times, each in a fresh context (empty
 * IndexedDB) of one browser launch: `count` views tracked back to back, timed from the first call
 * until `status()` reports all of them stored and nothing queued.
 */
export async function measurePersistence(server) {
  const browser = await launchChromium();
  const runs = [];
  try {
    for (let run = 0; run < PERSIST.runs; run++) {
      const bench = await openBenchPage(browser, `${server.origin}/ours.html`);
      await sleep(SETTLE_MS);
      const result = await withTimeout(
        bench.page.evaluate((o) => window.bench.persist(o), PERSIST),
        PERSIST.timeoutMs + 10_000,
        'Persisting events',
      );
      await bench.close();
      const stored = result.after.events - result.before.events;
      runs.push({
        count: PERSIST.count,
        stored,
        seconds: result.ms / 1000,
        trackLoopSeconds: result.loopMs / 1000,
        perSecond: result.timedOut ? 0 : PERSIST.count / (result.ms / 1000),
        timedOut: result.timedOut === true,
        storage: result.after.storage,
        queued: result.after.queued,
        rejected: result.after.rejected,
        problems: bench.problems,
      });
    }
  } finally {
    await browser.close();
  }
  return runs;
}

export function totalRejected(rejected) {
  return Object.values(rejected ?? {}).reduce((sum, count) => sum + (typeof count === 'number' ? count : 0), 0);
}
