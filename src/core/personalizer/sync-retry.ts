import { OmniPersonaError } from '../errors.js';

/** How background syncs that failed are retried. */
export interface SyncRetry {
  /** The first retry comes after about this long. */
  firstMs: number;
  /** No wait is longer than this. */
  maxMs: number;
}

/** A first retry after 2.5 to 5 seconds, and never more than 10 minutes between tries. */
export const SYNC_RETRY: SyncRetry = { firstMs: 5_000, maxMs: 10 * 60_000 };

/**
 * The wait before retry `attempt` (from 1): doubling from `firstMs` up to `maxMs`, of which a random
 * half is taken off ("equal jitter"), so that devices that lost the server together do not all come
 * back at the same instant.
 */
export function retryDelay(attempt: number, random: () => number, retry: SyncRetry = SYNC_RETRY): number {
  const ceiling = Math.min(retry.maxMs, retry.firstMs * 2 ** Math.max(0, attempt - 1));
  return ceiling / 2 + (random() * ceiling) / 2;
}

/** Whether a failed sync may succeed later unchanged: the server was unreachable or failed. */
export function isRetryable(error: unknown): boolean {
  return error instanceof OmniPersonaError && (error.code === 'NETWORK' || error.code === 'SERVER');
}
