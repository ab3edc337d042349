const kib = (bytes) => (bytes / 1024).toFixed(2);
const us = (value) => value.toFixed(2);
const times = (ratio) => `${ratio.toFixed(1)}×`;

/** Prints the tracking bench's tables: figures per tracker, ratios to ours, goals, and how it was measured. */
export function printTrackingReport(result) {
  console.log(`Tracking: track() cost, events persisted, tracker size (Chromium ${result.chromium})`);
  console.table(
    result.trackers.map((tracker) => ({
      tracker: `${tracker.label} ${tracker.version}`,
      'track() p50 µs': us(tracker.trackP50Us),
      'track() p95 µs': us(tracker.trackP95Us),
      'calls timed': tracker.callsTimed,
      'gzip KiB (tracker)': kib(tracker.gzipTrackerBytes),
      'gzip KiB (fetched)': kib(tracker.gzipFetchedBytes),
      'persisted/s': tracker.persistedPerSecond === undefined ? '—' : Math.round(tracker.persistedPerSecond),
    })),
  );
  console.log('Ratios, peer / ours (above 1: ours is faster or smaller)');
  console.table(
    result.ratios.map((ratio) => ({
      peer: ratio.peer,
      'track() p50': times(ratio.trackP50),
      'track() p95': times(ratio.trackP95),
      'gzip vs our tracker': times(ratio.gzipVsOurTracker),
      'gzip vs all we fetched': times(ratio.gzipVsOurFetched),
    })),
  );
  console.log('Goals');
  console.table(result.goals.map(({ goal, value, met }) => ({ goal, value, met: met ? '✓' : '✗' })));

  const [ours] = result.trackers;
  for (const file of ours.fetched) console.log(`  fetched by our page: ${file.path} (${kib(file.gzip)} KiB gzip)`);
  for (const file of ours.mlFetched) console.log(`  model file fetched too: ${file.path} (${kib(file.gzip)} KiB gzip)`);
  for (const tracker of result.trackers) {
    const failed = tracker.checks.filter((check) => !check.ok);
    const shown = failed.length > 0 ? failed : tracker.checks.slice(0, 1);
    for (const check of shown) console.log(`  ${check.ok ? 'ok' : 'BROKEN'} ${tracker.label}: ${check.what}`);
    for (const problem of tracker.problems.slice(0, 3)) console.log(`  ${tracker.label} page said: ${problem}`);
  }
  console.log('Notes');
  for (const note of result.method) console.log(`  - ${note}`);
  if (!result.valid)
    console.log('Some setup checks failed (BROKEN above): these figures do not measure working trackers.');
}
