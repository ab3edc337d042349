import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';

/**
 * CORS for the sync API, for pages of `origins` (`'*'`: any). Hono's middleware answers preflights;
 * every other request gets its headers through `c.header` before its handler runs, so that they go
 * out with whatever answer it makes, an error's included. Hono's middleware sets them on `c.res`
 * instead, which makes a Response before the handler's own, and under `@hono/node-server` a full
 * web Response in place of its lightweight one: about a tenth of the server's CPU per model update.
 */
export function corsHeaders(origins: string | readonly string[]): MiddlewareHandler {
  const preflight = cors({
    origin: typeof origins === 'string' ? origins : [...origins],
    allowMethods: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'OPTIONS'],
    allowHeaders: ['Authorization', 'Content-Type', 'If-None-Match'],
    exposeHeaders: ['ETag'],
    maxAge: 600,
  });
  const allowed = (origin: string): string | undefined => {
    if (origins === '*') return '*';
    return (typeof origins === 'string' ? origins === origin : origins.includes(origin)) ? origin : undefined;
  };
  return async (c, next) => {
    if (c.req.method === 'OPTIONS') return preflight(c, next);
    const origin = allowed(c.req.header('origin') ?? '');
    if (origin) {
      c.header('Access-Control-Allow-Origin', origin);
      c.header('Access-Control-Expose-Headers', 'ETag');
    }
    // The answer depends on the origin whenever not every origin gets the same.
    if (origins !== '*') c.header('Vary', 'Origin');
    await next();
  };
}
