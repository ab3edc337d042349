import { vValidator } from '@hono/valibot-validator';
import { Hono } from 'hono';
import * as v from 'valibot';
import { CHANNEL_PATTERN } from '../../core/event.js';
import { ROUTES, ShopperEventsBodySchema, ShopperRemovalsBodySchema } from '../../core/sync/protocol.js';
import { adminAuth } from '../admin-auth.js';
import { bodyLimit } from '../body-limit.js';
import { errorResponse } from '../error-response.js';
import { formatIssues } from '../format-issues.js';
import type { ShopperLog } from '../shopper-log.js';
import { type ShopperVariables, shopperAuth } from '../shopper-token.js';
import type { ResolvedSyncServerOptions } from '../sync-server-options.js';

/** A request body of 500 events with full item metadata stays well under this. */
const MAX_EVENTS_BYTES = 2 * 1024 * 1024;

const AfterSchema = v.object({
  after: v.optional(
    v.pipe(v.string(), v.digits('Expected a version number'), v.maxLength(10), v.transform(Number)),
    '0',
  ),
});

const UserIdSchema = v.object({ userId: v.pipe(v.string(), v.minLength(1), v.maxLength(200)) });

const ChannelQuerySchema = v.object({
  channel: v.optional(v.pipe(v.string(), v.regex(CHANNEL_PATTERN, 'Expected a channel name')), 'pos'),
});

/**
 * The signed-in shopper's synced log (shopper token): `GET` and `POST /v1/shopper/events`,
 * `DELETE /v1/shopper`; and `POST /v1/shoppers/:userId/events` (operator token) for channels without
 * the SDK, `?channel=pos` by default.
 */
export function shopperRoutes(
  log: ShopperLog,
  options: ResolvedSyncServerOptions,
): Hono<{ Variables: ShopperVariables }> {
  const invalid = (what: string) =>
    ((result, c) => {
      if (result.success) return;
      return errorResponse(c, 'INVALID_REQUEST', `Invalid ${what}: ${formatIssues(result.issues)}`);
    }) satisfies Parameters<typeof vValidator>[2];
  const shopper = shopperAuth(options.siteSecret);
  return new Hono<{ Variables: ShopperVariables }>()
    .get(ROUTES.shopperEvents, shopper, vValidator('query', AfterSchema, invalid('query')), async (c) => {
      c.header('Cache-Control', 'no-store');
      return c.json(await log.read(c.get('userId'), c.req.valid('query').after));
    })
    .post(
      ROUTES.shopperEvents,
      shopper,
      bodyLimit(MAX_EVENTS_BYTES),
      vValidator('json', ShopperEventsBodySchema, invalid('body')),
      async (c) => c.json(await log.add(c.get('userId'), c.req.valid('json').events)),
    )
    .post(
      ROUTES.shopperRemovals,
      shopper,
      bodyLimit(MAX_EVENTS_BYTES),
      vValidator('json', ShopperRemovalsBodySchema, invalid('body')),
      async (c) => c.json(await log.remove(c.get('userId'), c.req.valid('json').ids)),
    )
    .delete(ROUTES.shopper, shopper, async (c) => {
      await log.forget(c.get('userId'));
      return c.body(null, 204);
    })
    .post(
      ROUTES.channelEvents,
      adminAuth(options.adminToken),
      bodyLimit(MAX_EVENTS_BYTES),
      vValidator('param', UserIdSchema, invalid('user id')),
      vValidator('query', ChannelQuerySchema, invalid('query')),
      vValidator('json', ShopperEventsBodySchema, invalid('body')),
      async (c) => {
        const { userId } = c.req.valid('param');
        const { events } = c.req.valid('json');
        return c.json(await log.addFromChannel(userId, events, c.req.valid('query').channel));
      },
    );
}
