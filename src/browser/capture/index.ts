/**
 * Automatic capture: what the SDK records on a page by itself. {@link startCapture} is the entry;
 * the options are {@link CaptureOptions}; the markup it reads is in `attributes.ts`.
 */
export * from './attributes.js';
export type { CaptureSink } from './capture-context.js';
export {
  CAPTURE_PARTS,
  type CaptureOptions,
  type CapturePartName,
  type CartCaptureOptions,
  type ClickCaptureOptions,
  type DataLayerCaptureOptions,
  type DwellCaptureOptions,
  type PageCaptureOptions,
  type ProductCaptureOptions,
  type ProductUrlRule,
  type PurchaseCaptureOptions,
  type SearchCaptureOptions,
} from './capture-options.js';
export { readItemAttribute } from './read-item-attribute.js';
export type { SelectorRef } from './read-selector.js';
export { startCapture } from './start-capture.js';
