import type { MiddlewareHandler } from 'hono';
import { bodyLimit as honoBodyLimit } from 'hono/body-limit';
import { errorResponse } from './error-response.js';

/** Refuses bodies over `maxBytes`, by `Content-Length` before reading and by counting otherwise, with a JSON 413. */
export function bodyLimit(maxBytes: number): MiddlewareHandler {
  return honoBodyLimit({
    maxSize: maxBytes,
    onError: (c) => errorResponse(c, 'PAYLOAD_TOO_LARGE', `Expected a body of at most ${maxBytes} bytes`),
  });
}
