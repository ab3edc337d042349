import type { MiddlewareHandler } from 'hono';
import { bodyLimit as honoBodyLimit } from 'hono/body-limit';
import { errorResponse } from './error-response.js';

/**
 * Refuses bodies over `maxBytes`, by `Content-Length` before reading and by counting otherwise, with a
 * JSON 413. The answer closes the connection: the rest of the body is never read, so the socket is
 * not fit for the client's next request.
 */
export function bodyLimit(maxBytes: number): MiddlewareHandler {
  return honoBodyLimit({
    maxSize: maxBytes,
    onError: (c) => {
      c.header('Connection', 'close');
      return errorResponse(c, 'PAYLOAD_TOO_LARGE', `Expected a body of at most ${maxBytes} bytes`);
    },
  });
}
