import { OmniPersonaError } from '../core/errors.js';

/**
 * Whether an IndexedDB failure means the disk quota is full. Browsers report it as a
 * `QuotaExceededError` DOMException, thrown by a request or as the error of an aborted
 * transaction (Chromium checks the quota when a transaction commits); legacy engines used code 22.
 */
export function isQuotaError(error: unknown): boolean {
  if (error instanceof OmniPersonaError) return error.code === 'STORAGE_QUOTA';
  const name = (error as { name?: unknown } | null)?.name;
  const code = (error as { code?: unknown } | null)?.code;
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED' || code === 22;
}

/** Failures of the data itself: another connection or the memory fallback would fail the same way. */
const DATA_ERRORS = new Set(['DataCloneError', 'DataError', 'ConstraintError']);

/**
 * Whether a failure is the storage's, not the data's: a connection closed or deleted under the SDK,
 * a store that went missing, writes the browser refuses (`UnknownError`, `InvalidStateError`, …).
 * Those are worth a reconnect and, failing that, the memory fallback.
 */
export function isStorageFailure(error: unknown): boolean {
  if (isQuotaError(error)) return false;
  if (error instanceof OmniPersonaError) return error.code === 'STORAGE_UNAVAILABLE';
  const name = (error as { name?: unknown } | null)?.name;
  return !(typeof name === 'string' && DATA_ERRORS.has(name));
}
