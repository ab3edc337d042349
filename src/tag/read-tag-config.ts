import * as v from 'valibot';
import { CAPTURE_PARTS, type CaptureOptions, type CapturePartName } from '../browser/capture/index.js';
import type { BrowserPersonalizerOptions } from '../browser/create-browser-personalizer.js';
import { CONSENT_TIERS } from '../core/consent.js';
import { CHANNEL_PATTERN } from '../core/event.js';
import { resolveOptions } from '../core/personalizer/options.js';
import { readInlineConfig } from './inline-config.js';

const BACKENDS = ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'] as const;

/** The options an inline JSON config may hold; `capture` is validated part by part when capture starts. */
const JSON_OPTIONS = {
  site: v.pipe(v.string(), v.minLength(1)),
  endpoint: v.pipe(v.string(), v.minLength(1)),
  prior: v.pipe(v.string(), v.minLength(1)),
  channel: v.pipe(v.string(), v.regex(CHANNEL_PATTERN, 'Expected a lowercase channel name such as web or kiosk-3')),
  consent: v.picklist(CONSENT_TIERS),
  backend: v.picklist(BACKENDS),
  trainAfterEvents: v.pipe(v.number(), v.integer(), v.minValue(0)),
  trainingBudgetMs: v.pipe(v.number(), v.integer(), v.minValue(100), v.maxValue(60_000)),
  widgets: v.boolean(),
  botFilter: v.boolean(),
  modelWorker: v.boolean(),
  weightsDtype: v.picklist(['F32', 'F16', 'I8']),
  capture: v.union([v.boolean(), v.record(v.string(), v.unknown())]),
  // Each bound is range-checked where the personalizer resolves its options.
  cleaning: v.strictObject({
    repeatViewMs: v.optional(v.number()),
    maxEventsPerSecond: v.optional(v.number()),
    maxClockSkewMs: v.optional(v.number()),
    maxPrice: v.optional(v.number()),
    maxQuantity: v.optional(v.number()),
  }),
  retention: v.strictObject({ maxAgeDays: v.optional(v.number()), maxEvents: v.optional(v.number()) }),
};

/**
 * Reads the personalizer's configuration for the script tag, without a build step, from two places:
 *
 * 1. An inline JSON config: `<script type="application/json" data-omnipersona-config>{…}</script>`
 *    anywhere in the page, or the element whose id the tag's `data-config` names. It holds the
 *    options below by their option names (`site`, `endpoint`, `prior`, `channel`, `consent`, `backend`,
 *    `trainAfterEvents`, `trainingBudgetMs`, `widgets`, `botFilter`, `modelWorker`, `weightsDtype`, `cleaning`, `retention`) and
 *    `capture`, a
 *    {@link CaptureOptions} object.
 * 2. The tag's attributes, which win: `data-site`, `data-endpoint`, `data-prior`, `data-channel`, `data-consent`,
 *    `data-backend`, `data-train-after`, `data-training-budget` (ms), `data-widgets="false"`, `data-bot-filter="false"`,
 *    `data-model-worker="false"`, and for capture
 *    `data-capture="false"` (all off), `data-capture="pages,products"` (only these parts) and
 *    `data-capture-exclude="dwell,scroll"` (all but these).
 *
 * A malformed value is ignored with one console warning; nothing here throws.
 */
export function readTagConfig(script: HTMLScriptElement | null): BrowserPersonalizerOptions {
  const data = script?.dataset ?? {};
  const json = readInlineConfig(data.config, warn);
  const options: BrowserPersonalizerOptions = { capture: true, widgets: true };
  for (const [key, value] of Object.entries(json)) {
    const schema = JSON_OPTIONS[key as keyof typeof JSON_OPTIONS];
    if (!schema) {
      warn(`Unknown option "${key}" in the inline config; expected one of ${Object.keys(JSON_OPTIONS).join(', ')}`);
      continue;
    }
    const result = v.safeParse(schema, value);
    if (!result.success) warn(`Ignoring the inline config's "${key}": ${result.issues[0].message}`);
    else if (key === 'cleaning' || key === 'retention') {
      try {
        resolveOptions({ [key]: result.output });
        Object.assign(options, { [key]: result.output });
      } catch (error) {
        warn(`Ignoring the inline config's "${key}": ${(error as Error).message}`);
      }
    } else Object.assign(options, { [key]: result.output });
  }

  const attribute = <T>(name: string, value: string | undefined, schema: v.GenericSchema<unknown, T>) => {
    if (value === undefined) return undefined;
    const result = v.safeParse(schema, value);
    if (result.success) return result.output;
    warn(`Ignoring data-${name}="${value}": ${result.issues[0].message}`);
    return undefined;
  };
  const set = <K extends keyof BrowserPersonalizerOptions>(
    key: K,
    value: BrowserPersonalizerOptions[K] | undefined,
  ) => {
    if (value !== undefined) options[key] = value;
  };
  set('site', attribute('site', data.site, JSON_OPTIONS.site));
  set('endpoint', attribute('endpoint', data.endpoint, JSON_OPTIONS.endpoint));
  set('prior', attribute('prior', data.prior, JSON_OPTIONS.prior));
  set('channel', attribute('channel', data.channel, JSON_OPTIONS.channel));
  set('consent', attribute('consent', data.consent, JSON_OPTIONS.consent));
  set('backend', attribute('backend', data.backend, JSON_OPTIONS.backend));
  set(
    'trainAfterEvents',
    attribute('train-after', data.trainAfter, v.pipe(v.string(), v.toNumber(), JSON_OPTIONS.trainAfterEvents)),
  );
  set(
    'trainingBudgetMs',
    attribute('training-budget', data.trainingBudget, v.pipe(v.string(), v.toNumber(), JSON_OPTIONS.trainingBudgetMs)),
  );
  if (data.widgets === 'false') options.widgets = false;
  if (data.botFilter === 'false') options.botFilter = false;
  if (data.modelWorker === 'false') options.modelWorker = false;
  if (options.endpoint) options.endpoint = new URL(options.endpoint, location.href).href;
  // Relative to the page, as written in its markup, not to wherever the app module was loaded from.
  if (options.prior) options.prior = new URL(options.prior, location.href).href;
  options.capture = captureFromAttributes(options.capture ?? true, data.capture, data.captureExclude);
  return options;
}

/** Applies `data-capture` and `data-capture-exclude` to the inline config's capture options. */
function captureFromAttributes(
  base: boolean | CaptureOptions,
  only: string | undefined,
  exclude: string | undefined,
): boolean | CaptureOptions {
  if (only?.trim() === 'false') return false;
  const listed = only && only.trim() !== 'true' ? parts('capture', only) : undefined;
  const excluded = exclude ? parts('capture-exclude', exclude) : [];
  if (!listed && excluded.length === 0) return base;
  const capture: CaptureOptions = typeof base === 'object' ? { ...base } : {};
  for (const part of CAPTURE_PARTS) {
    if ((listed && !listed.includes(part)) || excluded.includes(part)) capture[part] = false;
    else if (listed && capture[part] === false) capture[part] = true;
  }
  return capture;
}

function parts(name: string, value: string): CapturePartName[] {
  return value
    .split(/[\s,]+/u)
    .filter(Boolean)
    .filter((part): part is CapturePartName => {
      if ((CAPTURE_PARTS as readonly string[]).includes(part)) return true;
      warn(`Unknown capture part "${part}" in data-${name}; expected ${CAPTURE_PARTS.join(', ')}`);
      return false;
    });
}

function warn(message: string): void {
  console.warn(`[omnipersona] ${message}`);
}
