/** Named parts of a URL matched by a {@link compileUrlPattern} pattern. */
export type UrlMatch = Record<string, string>;

/**
 * Compiles a URL pattern as shops write routes: `/product/:id`, `/p/:slug/*`,
 * `https://shop.example/:lang/item/:id`, or with a query: `/index.php?route=product&product_id=:id`.
 * `:name` matches one path segment (or one query value), `*` anything; query parameters the pattern
 * does not name are ignored. Written by hand because `URLPattern` is missing from older Safari
 * and Firefox versions still in use. Throws `TypeError` on a pattern that is not a path or URL.
 */
export function compileUrlPattern(pattern: string): (url: URL) => UrlMatch | undefined {
  const [pathPart = '', query] = pattern.split('?', 2);
  const full = /^[a-z][a-z\d+.-]*:\/\//iu.test(pathPart);
  if (!full && !pathPart.startsWith('/'))
    throw new TypeError(`a URL pattern starts with / or a scheme, received "${pattern}"`);
  const names: string[] = [];
  const source = pathPart
    .replace(/\/$/u, '')
    .split(/(:[A-Za-z_]\w*|\*)/u)
    .map((token) => {
      if (token === '*') return '.*';
      if (token.startsWith(':')) {
        names.push(token.slice(1));
        return '([^/]+)';
      }
      return token.replace(/[.+?^${}()|[\]\\]/gu, '\\$&');
    })
    .join('');
  const path = new RegExp(`^${source}/?$`, 'iu');
  const params = [...new URLSearchParams(query ?? '')];
  return (url) => {
    const match = path.exec(full ? `${url.origin}${url.pathname}` : url.pathname);
    if (!match) return undefined;
    const result: UrlMatch = {};
    names.forEach((name, index) => {
      result[name] = decode(match[index + 1] ?? '');
    });
    for (const [key, expected] of params) {
      const value = url.searchParams.get(key);
      if (value === null) return undefined;
      if (expected.startsWith(':')) result[expected.slice(1)] = value;
      else if (expected !== '*' && expected !== value) return undefined;
    }
    return result;
  };
}

function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
