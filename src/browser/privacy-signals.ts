import type { PrivacySignals } from '../core/consent.js';

/** The shopper's browser-wide privacy preferences: Global Privacy Control and Do-Not-Track. */
export function readPrivacySignals(): PrivacySignals {
  const nav = navigator as Navigator & { globalPrivacyControl?: unknown };
  return { globalPrivacyControl: nav.globalPrivacyControl === true, doNotTrack: nav.doNotTrack === '1' };
}
