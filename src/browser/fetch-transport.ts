import type { Transport, TransportRequest, TransportResponse } from '../core/adapters.js';

/**
 * The sync transport over `fetch`. Requests carry no cookies (`credentials: 'omit'`): the shopper
 * is identified only by what the consent tier allows the SDK to send. With an empty `endpoint`,
 * request paths are whole URLs (absolute, or relative to the page): how the prior file is fetched.
 */
export function createFetchTransport(endpoint: string, timeoutMs = 15_000): Transport {
  const base = endpoint.replace(/\/+$/u, '');
  return {
    async request(request: TransportRequest): Promise<TransportResponse> {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), timeoutMs);
      try {
        const init: RequestInit = {
          method: request.method,
          credentials: 'omit',
          signal: controller.signal,
          keepalive: request.keepalive ?? false,
        };
        if (request.headers) init.headers = request.headers;
        if (request.body !== undefined) init.body = request.body as BodyInit;
        const response = await fetch(`${base}${request.path}`, init);
        const headers: Record<string, string> = {};
        response.headers.forEach((value, key) => {
          headers[key] = value;
        });
        return { status: response.status, headers, body: new Uint8Array(await response.arrayBuffer()) };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
