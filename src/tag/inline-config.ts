/**
 * The inline JSON config's object: `<script type="application/json" data-omnipersona-config>{…}</script>`
 * anywhere in the page, or the element whose id the tag's `data-config` names. `{}` when there is
 * none; `warn` (when given) hears why a config that is there cannot be read.
 */
export function readInlineConfig(id: string | undefined, warn?: (message: string) => void): Record<string, unknown> {
  const element = id
    ? document.getElementById(id)
    : document.querySelector('script[type="application/json"][data-omnipersona-config]');
  if (!element) {
    if (id) warn?.(`data-config names "${id}", but the page has no element with that id`);
    return {};
  }
  try {
    const config: unknown = JSON.parse(element.textContent ?? '');
    if (typeof config === 'object' && config !== null && !Array.isArray(config))
      return config as Record<string, unknown>;
    warn?.('The inline config must be a JSON object');
  } catch (error) {
    warn?.(`The inline config is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  return {};
}
