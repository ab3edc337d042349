import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { OmniPersonaErrorCode } from '../core/errors.js';
import type { ErrorBody } from '../core/sync/protocol.js';

/** Codes of the server's error answers: the SDK's own, so clients branch on them typed. */
export type ServerErrorCode = OmniPersonaErrorCode;

const STATUS: Partial<Record<ServerErrorCode, ContentfulStatusCode>> = {
  INVALID_REQUEST: 400,
  INVALID_PAYLOAD: 400,
  INVALID_OPTIONS: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  MODEL_UNAVAILABLE: 404,
  STALE_UPDATE: 409,
  PAYLOAD_TOO_LARGE: 413,
  STORAGE_UNAVAILABLE: 503,
};

/** The HTTP status that answers an error with `code`. */
export function statusOf(code: ServerErrorCode): ContentfulStatusCode {
  return STATUS[code] ?? 500;
}

/** Answers with the protocol's {@link ErrorBody}. */
export function errorResponse(
  c: Context,
  code: ServerErrorCode,
  message: string,
  status: ContentfulStatusCode = statusOf(code),
): Response {
  return c.json({ error: { code, message } } satisfies ErrorBody, status);
}
