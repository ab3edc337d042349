/**
 * Every failure the SDK reports carries a stable, machine-readable `code`.
 * Hosts branch on `code`; `message` is for people and says what was expected and what was received.
 */
export type OmniPersonaErrorCode =
  | 'INVALID_EVENT'
  | 'INVALID_OPTIONS'
  | 'INVALID_REQUEST'
  | 'INVALID_PAYLOAD'
  | 'STORAGE_UNAVAILABLE'
  | 'STORAGE_QUOTA'
  | 'BACKEND_UNAVAILABLE'
  | 'MODEL_UNAVAILABLE'
  | 'TRAINING_FAILED'
  | 'NETWORK'
  | 'SERVER'
  | 'CONSENT'
  | 'STALE_UPDATE'
  | 'NOT_FOUND'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'PAYLOAD_TOO_LARGE'
  | 'INTERNAL';

/** The one error class of OmniPersona, on the device and on the server. */
export class OmniPersonaError extends Error {
  override readonly name = 'OmniPersonaError';
  readonly code: OmniPersonaErrorCode;

  constructor(code: OmniPersonaErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Wraps anything thrown into an {@link OmniPersonaError}, keeping the original as `cause`. */
export function toOmniPersonaError(error: unknown, code: OmniPersonaErrorCode, context: string): OmniPersonaError {
  if (error instanceof OmniPersonaError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new OmniPersonaError(code, `${context}: ${detail}`, { cause: error });
}

/** Describes a received value in an error message without dumping it whole. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
