import type { MiddlewareHandler } from 'hono';
import { OmniPersonaError } from '../../core/errors.js';
import { errorResponse } from '../error-response.js';

/** What a feed body is, by its Content-Type: CSV or JSON lines. A JSON body is not a feed. */
export type FeedType = 'csv' | 'jsonl';

const FEED_TYPES: ReadonlyArray<[RegExp, FeedType]> = [
  [/^text\/csv\b/iu, 'csv'],
  [/^application\/(x-ndjson|jsonl|x-jsonlines)\b/iu, 'jsonl'],
];

/**
 * The step of an operator route that takes a feed as well as JSON: for a CSV or JSON-lines body,
 * `answer` reads its text and gives the response's JSON, and an `INVALID_REQUEST` it throws is a 400
 * with its message; any other body goes on to the route's JSON validator.
 */
export function feedBody(answer: (text: string, type: FeedType) => Promise<object>): MiddlewareHandler {
  return async (c, next) => {
    const type = FEED_TYPES.find(([pattern]) => pattern.test(c.req.header('content-type') ?? ''))?.[1];
    if (!type) return next();
    try {
      return c.json(await answer(await c.req.text(), type));
    } catch (error) {
      if (!(error instanceof OmniPersonaError) || error.code !== 'INVALID_REQUEST') throw error;
      return errorResponse(c, 'INVALID_REQUEST', error.message);
    }
  };
}
