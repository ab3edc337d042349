// Runs inside every bench page. All three trackers are driven by this one loop, so what differs
// between their figures is the tracker, not the harness.

const IDS = 500;
const ITEMS = Array.from({ length: IDS }, (_, i) => ({
  id: `sku-${i}`,
  name: 'Trail shoe',
  category: 'Shoes > Running',
  price: 89,
  currency: 'EUR',
}));

/** The product the n-th call views; ids cycle over 500 so no two consecutive views repeat. */
export const itemFor = (n) => ITEMS[n % IDS];

// A MessageChannel message starts a new task without setTimeout's 4 ms clamp on nested timers.
const channel = new MessageChannel();
const waiting = [];
channel.port1.onmessage = () => waiting.shift()?.();
export const nextTask = () =>
  new Promise((resolve) => {
    waiting.push(resolve);
    channel.port2.postMessage(0);
  });

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The baseline writes here, so its work is observable and cannot be optimized away.
// biome-ignore lint/correctness/noUnusedVariables: written, never read, on purpose.
let sink;

/**
 * Times `track(item)` in groups of `group` calls, after up to `warmup` untimed calls. Even
 * cross-origin isolated, `performance.now()` ticks in 5 µs steps, far coarser than one call, so one
 * sample is a group's time divided by its size. Each group runs in its own task, as calls from
 * separate event handlers would, so a tracker's deferred work (promises, timers, storage, network)
 * runs between samples, outside the timed window: what is timed is the call's synchronous cost on
 * the main thread. A slow tracker would hold the whole bench up, so the run stops at `calls` calls or
 * after `budgetMs` (the warm-up gets a fifth of it), whichever comes first.
 * Returns the per-call time of every sample in microseconds, and how many warm-up calls ran.
 */
async function timeCalls(track, { warmup, calls, group, budgetMs }) {
  const begin = performance.now();
  const within = (share) => performance.now() - begin < budgetMs * share;
  const runGroup = (n) => {
    for (let end = n + group; n < end; n++) track(itemFor(n));
  };
  let n = 0;
  for (; n < warmup && within(0.2); n += group) {
    runGroup(n);
    await nextTask();
  }
  const warmedUp = n;
  const samples = [];
  for (; samples.length < calls / group && within(1); n += group) {
    const start = performance.now();
    runGroup(n);
    samples.push(((performance.now() - start) * 1000) / group);
    await nextTask();
  }
  return { warmup: warmedUp, samples };
}

/**
 * Publishes the page's tracker to the bench driver as `window.bench`.
 * @param {{ ready: Promise<unknown>, track: (item: typeof ITEMS[number]) => void, extra?: object }} tracker
 */
export function registerTracker({ ready, track, extra = {} }) {
  window.bench = {
    async ready() {
      await ready;
      return { crossOriginIsolated: globalThis.crossOriginIsolated === true };
    },
    time: (options) => timeCalls(track, options),
    // The same loop around a call that only builds the event literal: the harness's own share.
    baseline: (options) =>
      timeCalls((item) => {
        sink = {
          type: 'view',
          item: { id: item.id, name: item.name, category: item.category, price: item.price, currency: item.currency },
        };
      }, options),
    ...extra,
  };
}
