import type { MiddlewareHandler } from 'hono';
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
    const match = /^Bearer\s+(\S+)\s*$/iu.exec(c.req.header('authorization') ?? '');
    if (!match?.[1]) {
      c.header('WWW-Authenticate', 'Bearer realm="omnipersona"');
      return errorResponse(c, 'UNAUTHORIZED', 'Expected an "Authorization: Bearer <admin token>" header');
    }
    if (!(await timingSafeEqual(match[1], adminToken))) {
      return errorResponse(c, 'FORBIDDEN', 'The admin token is not valid');
    }
    await next();
  };
}
