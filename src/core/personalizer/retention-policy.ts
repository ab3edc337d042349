import type { EvictionPolicy } from '../adapters.js';

const DAY_MS = 86_400_000;

/** How long, and how many, events the device keeps. Defaults live in `options.ts`. */
export interface RetentionLimits {
  maxAgeDays: number;
  maxEvents: number;
}

/** The eviction policy that enforces `limits` at time `now`. */
export function evictionPolicy(limits: RetentionLimits, now: number): EvictionPolicy {
  return { before: now - limits.maxAgeDays * DAY_MS, keep: Math.max(0, Math.floor(limits.maxEvents)) };
}

/**
 * The ids a policy removes from a log: every event older than `before`, then the oldest of the rest
 * until `keep` remain. Ties in time go by id, as IndexedDB's time index orders them. Stores that can
 * do this with an index (IndexedDB) do; this is the reference for the others and for tests.
 */
export function eventsToEvict(events: Iterable<{ id: string; time: number }>, policy: EvictionPolicy): string[] {
  const ordered = [...events].sort((a, b) => a.time - b.time || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const expired = ordered.filter((event) => event.time < policy.before);
  const kept = ordered.slice(expired.length);
  const overflow = kept.slice(0, Math.max(0, kept.length - policy.keep));
  return [...expired, ...overflow].map((event) => event.id);
}
