import type { BrowserPersonalizerOptions } from '../browser/create-browser-personalizer.js';
import { isConsentTier } from '../core/consent.js';
import type { BackendPreference } from '../core/model/model-runtime.js';

const BACKENDS: readonly BackendPreference[] = ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'];

/**
 * Reads the personalizer's configuration from the script tag's `data-*` attributes:
 * `data-site`, `data-endpoint`, `data-channel`, `data-consent`, `data-backend`, `data-capture`
 * and `data-widgets` (`"false"` turns those off).
 */
export function readTagConfig(script: HTMLScriptElement | null): BrowserPersonalizerOptions {
  const data = script?.dataset ?? {};
  const options: BrowserPersonalizerOptions = {
    capture: data.capture !== 'false',
    widgets: data.widgets !== 'false',
  };
  if (data.site) options.site = data.site;
  if (data.endpoint) options.endpoint = new URL(data.endpoint, location.href).href;
  if (data.channel) options.channel = data.channel;
  if (isConsentTier(data.consent)) options.consent = data.consent;
  if (BACKENDS.includes(data.backend as BackendPreference)) options.backend = data.backend as BackendPreference;
  if (data.trainAfter && Number.isInteger(Number(data.trainAfter))) options.trainAfterEvents = Number(data.trainAfter);
  return options;
}
