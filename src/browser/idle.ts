import type { IdleScheduler } from '../core/adapters.js';

/** Runs a task when the browser is idle (or within two seconds), off the page's critical path. */
export const scheduleIdle: IdleScheduler = (task) => {
  if (typeof requestIdleCallback === 'function') requestIdleCallback(() => task(), { timeout: 2000 });
  else setTimeout(task, 50);
};
