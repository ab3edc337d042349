import type { ExclusiveRunner, TabChannel, TabMessage } from '../core/adapters.js';

/**
 * {@link ExclusiveRunner} over the Web Locks API: one lock per site and task name, taken only if
 * free, so of several tabs of the shop one trains and the others skip. Without Web Locks (an
 * older browser, a worker-less context), every tab runs the task.
 */
export function webLocksRunner(site: string): ExclusiveRunner {
  return async (name, task) => {
    const locks = (globalThis.navigator as Navigator | undefined)?.locks;
    if (!locks) return task();
    return locks.request(`omnipersona:${site}:${name}`, { ifAvailable: true }, (lock) => (lock ? task() : undefined));
  };
}

/** {@link TabChannel} over a BroadcastChannel named after the site; a no-op where there is none. */
export function broadcastTabChannel(site: string): TabChannel {
  if (typeof BroadcastChannel !== 'function') return { post() {}, listen: () => () => {} };
  const channel = new BroadcastChannel(`omnipersona:${site}`);
  return {
    post: (message) => channel.postMessage(message),
    listen(listener) {
      const receive = (event: MessageEvent<TabMessage>) => {
        if (event.data?.type === 'trained') listener(event.data);
      };
      channel.addEventListener('message', receive);
      return () => channel.removeEventListener('message', receive);
    },
  };
}
