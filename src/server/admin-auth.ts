import type { Context, MiddlewareHandler } from 'hono';
import { timingSafeEqual } from 'hono/utils/buffer';
import { errorResponse } from './error-response.js';

/**
 * Guards the operator routes with `Authorization: Bearer <adminToken>`: 401 without credentials,
 * 403 with wrong ones, and 403 for everyone when the server has no token (publishing is then left
 * to the host process).
 */
export function adminAuth(adminToken: string | undefined): MiddlewareHandler {
  return async (c, next) => {
    if (adminToken === undefined) {
      return errorResponse(c, 'FORBIDDEN', 'Publishing over HTTP is disabled: start the server with an admin token');
    }
    const token = bearerToken(c);
    if (token === undefined) {
      c.header('WWW-Authenticate', 'Bearer realm="omnipersona"');
      return errorResponse(c, 'UNAUTHORIZED', 'Expected an "Authorization: Bearer <admin token>" header');
    }
    if (!(await timingSafeEqual(token, adminToken))) {
      return errorResponse(c, 'FORBIDDEN', 'The admin token is not valid');
    }
    await next();
  };
}

/** The token of an `Authorization: Bearer <token>` header, or undefined without one. */
export function bearerToken(c: Context): string | undefined {
  return /^Bearer\s+(\S+)\s*$/iu.exec(c.req.header('authorization') ?? '')?.[1];
}
