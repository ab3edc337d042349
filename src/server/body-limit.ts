import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit as honoBodyLimit } from 'hono/body-limit';
import { OmniPersonaError } from '../core/errors.js';
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

/** Node's `IncomingMessage`, as {@link requestBytes} reads it. */
type NodeBody = AsyncIterable<Uint8Array>;

/**
 * A binary body (a model update, a published model) of at most `maxBytes`, in a buffer of its own
 * (a worker may take it over). Under Node it is read straight from the `IncomingMessage` that
 * `@hono/node-server` passes as `c.env.incoming`, without building a web `Request` and its
 * streams, which took a measurable share of the server's time per model update. Elsewhere, from
 * the request's stream.
 * @throws OmniPersonaError `PAYLOAD_TOO_LARGE` (the answer closes the connection, as
 * {@link bodyLimit}'s does), or `INVALID_REQUEST` when the body breaks off.
 */
export async function requestBytes(c: Context, maxBytes: number): Promise<Uint8Array> {
  const incoming = (c.env as { incoming?: NodeBody } | undefined)?.incoming;
  const length = Number(c.req.header('content-length') ?? Number.NaN);
  const tooLarge = () => {
    c.header('Connection', 'close');
    return new OmniPersonaError('PAYLOAD_TOO_LARGE', `Expected a body of at most ${maxBytes} bytes`);
  };
  if (length > maxBytes) throw tooLarge();
  const source =
    incoming && typeof incoming[Symbol.asyncIterator] === 'function' ? incoming : webChunks(c.req.raw.body);
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of source) {
      size += chunk.byteLength;
      if (size > maxBytes) throw tooLarge();
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof OmniPersonaError) throw error;
    throw new OmniPersonaError('INVALID_REQUEST', 'The request body broke off', { cause: error });
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** A web stream's chunks, as an async iterable. */
async function* webChunks(body: ReadableStream<Uint8Array> | null): AsyncIterable<Uint8Array> {
  if (!body) return;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}
