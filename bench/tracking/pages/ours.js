import { itemFor, registerTracker, sleep } from './harness.js';

// Looked up on every call, as a shop's code would: a first-stage stub may hand over to the full SDK.
const track = (item) =>
  window.omnipersona.track({
    type: 'view',
    item: { id: item.id, name: item.name, category: item.category, price: item.price, currency: item.currency },
  });

const status = async () => {
  const { events, queued, storage, rejected } = await window.omnipersona.status();
  return { events, queued, storage, rejected };
};

/**
 * Tracks `count` views back to back, then polls `status()` until all of them are in IndexedDB.
 * No `flush()`: the time includes however the SDK schedules its own writes.
 */
async function persist({ count, timeoutMs, pollMs }) {
  const before = await status();
  const start = performance.now();
  for (let n = 0; n < count; n++) track(itemFor(n));
  const loopMs = performance.now() - start;
  for (;;) {
    const now = await status();
    const elapsed = performance.now() - start;
    if (now.events - before.events >= count && now.queued === 0) return { ms: elapsed, loopMs, before, after: now };
    if (elapsed > timeoutMs) return { ms: elapsed, loopMs, before, after: now, timedOut: true };
    await sleep(pollMs);
  }
}

registerTracker({
  // Resolves once the tag has started the SDK, however many stages it loads in.
  ready: status(),
  track,
  extra: { status, flush: () => window.omnipersona.flush(), persist },
});
