import type { MiddlewareHandler } from 'hono';
import { sign, verify } from 'hono/jwt';
import { OmniPersonaError } from '../core/errors.js';
import { bearerToken } from './admin-auth.js';
import { errorResponse } from './error-response.js';

/**
 * Shopper tokens: what lets a device read and write one signed-in shopper's synced state.
 *
 * The shop's backend, which knows who is signed in, issues them: a JWT (RFC 7519) signed with
 * HS256 and the server's site secret, with the claims `sub` (the shop's user id), `aud`
 * ({@link SHOPPER_TOKEN_AUDIENCE}) and `exp` (required). Any JWT library signs one; in Node,
 * {@link signShopperToken} does. The state a token opens is the one of its `sub`, so a token for
 * one shopper can never reach another's.
 */
export const SHOPPER_TOKEN_AUDIENCE = 'omnipersona-shopper';

/** Shortest site secret accepted: 32 characters, as HS256 wants 256 bits of key. */
export const MIN_SITE_SECRET_LENGTH = 32;

/** The default lifetime of a token from {@link signShopperToken}: one day. */
const DEFAULT_LIFETIME_S = 86_400;

export interface ShopperTokenOptions {
  /** Seconds until the token expires. @default 86400 */
  expiresIn?: number;
  /** The current time, epoch milliseconds, for tests. @default Date.now() */
  now?: number;
}

/**
 * Signs a shopper token for `userId` with the server's `siteSecret`, for the shop's backend to hand
 * to the signed-in shopper's devices (the SDK's `shopperToken` option).
 * @throws OmniPersonaError `INVALID_OPTIONS` for an empty user id, a short secret or a bad lifetime.
 */
export async function signShopperToken(
  siteSecret: string,
  userId: string,
  options: ShopperTokenOptions = {},
): Promise<string> {
  const { expiresIn = DEFAULT_LIFETIME_S, now = Date.now() } = options;
  if (siteSecret.length < MIN_SITE_SECRET_LENGTH) {
    throw new OmniPersonaError(
      'INVALID_OPTIONS',
      `The site secret must have at least ${MIN_SITE_SECRET_LENGTH} characters`,
    );
  }
  if (userId.length === 0 || userId.length > 200) {
    throw new OmniPersonaError('INVALID_OPTIONS', 'A shopper token needs a user id of 1 to 200 characters');
  }
  if (!(Number.isFinite(expiresIn) && expiresIn > 0)) {
    throw new OmniPersonaError(
      'INVALID_OPTIONS',
      `expiresIn must be a positive number of seconds, received ${expiresIn}`,
    );
  }
  const issuedAt = Math.floor(now / 1000);
  return sign(
    { sub: userId, aud: SHOPPER_TOKEN_AUDIENCE, iat: issuedAt, exp: issuedAt + Math.ceil(expiresIn) },
    siteSecret,
    'HS256',
  );
}

/** What {@link shopperAuth} leaves on the context for the route. */
export interface ShopperVariables {
  userId: string;
}

/**
 * Guards the shopper routes with `Authorization: Bearer <shopper token>`: 401 without one or with one
 * that is malformed, forged, expired or for another audience; 403 for everyone when the server has no
 * site secret (cross-channel state is then off). Sets `userId` from the token's `sub`.
 */
export function shopperAuth(siteSecret: string | undefined): MiddlewareHandler<{ Variables: ShopperVariables }> {
  return async (c, next) => {
    if (siteSecret === undefined) {
      return errorResponse(c, 'FORBIDDEN', 'Shopper state is disabled: start the server with a site secret');
    }
    const token = bearerToken(c);
    if (token === undefined) {
      c.header('WWW-Authenticate', 'Bearer realm="omnipersona-shopper"');
      return errorResponse(c, 'UNAUTHORIZED', 'Expected an "Authorization: Bearer <shopper token>" header');
    }
    let subject: unknown;
    try {
      const payload = await verify(token, siteSecret, { alg: 'HS256', aud: SHOPPER_TOKEN_AUDIENCE });
      // `verify` checks `exp` when present; a shopper token must carry one.
      if (typeof payload.exp !== 'number') throw new Error('no exp claim');
      subject = payload.sub;
    } catch {
      c.header('WWW-Authenticate', 'Bearer realm="omnipersona-shopper", error="invalid_token"');
      return errorResponse(c, 'UNAUTHORIZED', 'The shopper token is not valid: forged, expired or malformed');
    }
    if (typeof subject !== 'string' || subject.length === 0 || subject.length > 200) {
      return errorResponse(c, 'UNAUTHORIZED', 'The shopper token names no user (claim "sub")');
    }
    c.set('userId', subject);
    await next();
  };
}
