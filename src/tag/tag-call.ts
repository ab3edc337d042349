import type { Personalizer } from '../core/personalizer/personalizer.js';

/** The methods of `window.omnipersona`, callable as `omnipersona.track(...)` or `omnipersona('track', ...)`. */
export const TAG_METHODS = [
  'track',
  'identify',
  'recommend',
  'shown',
  'profile',
  'train',
  'sync',
  'forgetInterest',
  'forget',
  'status',
  'setConsent',
  'on',
  'flush',
] as const;
export type TagMethod = (typeof TAG_METHODS)[number];

/**
 * Calls that change what the device holds. Made before the app module arrived and left unplayed
 * when the page went away, they are kept in `localStorage` and played by the shop's next page.
 */
export const KEPT_METHODS: readonly string[] = ['track', 'identify', 'setConsent', 'forgetInterest', 'forget'];

/** One call on `window.omnipersona`, as the tracker queues it and the app module plays it. */
export interface TagCall {
  method: string;
  args: unknown[];
  /** The page the call was made on, when it is played later (after the app loaded, or on a later page). */
  url?: string;
}

/** The app module (`omnipersona-app.js`), as the tracker imports it. */
export interface TagAppModule {
  start(script: HTMLScriptElement | null, pageId: string): TagSession;
}

/** A started app: plays calls, in the order the tracker received them. Never throws. */
export interface TagSession {
  dispatch(call: TagCall): unknown;
  readonly catalog: Personalizer['catalog'];
}

/** The `localStorage` key under which one page keeps its unplayed calls. */
export function keptCallsKey(site: string, pageId: string): string {
  return `${keptCallsPrefix(site)}${pageId}`;
}

export function keptCallsPrefix(site: string): string {
  return `omnipersona-calls:${site}:`;
}
