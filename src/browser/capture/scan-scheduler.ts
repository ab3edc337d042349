/** Runs page scans after the DOM settles, at most once per `maxWaitMs` while it keeps changing. */
export interface ScanScheduler {
  /**
   * A scan soon: after `quietMs` without DOM changes, or `maxWaitMs` at the latest — or `withinMs`,
   * when given (a navigation: its first scan must not wait for a busy page to calm down).
   */
  schedule(withinMs?: number): void;
  /** A scan `ms` from now, for data a page is still loading (a result count, a product name). */
  after(ms: number): void;
  /** Whether the DOM has changed in ways the observer has not delivered yet (this task's changes). */
  changing(): boolean;
  stop(): void;
}

/**
 * Watches the DOM with one MutationObserver and debounces: a mutation only moves a timer, and the
 * scan itself runs once the page has been quiet for `quietMs`. Observes child lists and the given
 * attributes only — never style or text changes, which animations produce all the time.
 */
export function createScanScheduler(
  scan: () => void,
  attributeFilter: string[],
  quietMs = 100,
  maxWaitMs = 1000,
): ScanScheduler {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let deadline = Number.POSITIVE_INFINITY;
  const later = new Set<ReturnType<typeof setTimeout>>();
  const run = () => {
    timer = undefined;
    deadline = Number.POSITIVE_INFINITY;
    scan();
  };
  const schedule = (withinMs = maxWaitMs) => {
    const now = performance.now();
    deadline = Math.min(deadline, now + withinMs);
    clearTimeout(timer);
    timer = setTimeout(run, Math.max(0, Math.min(quietMs, deadline - now)));
  };
  const observer = new MutationObserver(() => schedule());
  observer.observe(document.documentElement, { childList: true, subtree: true, attributes: true, attributeFilter });
  return {
    schedule,
    after(ms) {
      const id = setTimeout(() => {
        later.delete(id);
        schedule();
      }, ms);
      later.add(id);
    },
    changing() {
      const records = observer.takeRecords();
      if (records.length > 0) schedule();
      return records.length > 0;
    },
    stop() {
      observer.disconnect();
      clearTimeout(timer);
      for (const id of later) clearTimeout(id);
    },
  };
}
