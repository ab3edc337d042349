// What a shop that sends events through Segment imports; the page glue lives in pages/segment.js.
export { AnalyticsBrowser } from '@segment/analytics-next';
