// What a shop that sends events through Snowplow imports; the page glue lives in pages/snowplow.js.
export { newTracker, trackSelfDescribingEvent } from '@snowplow/browser-tracker';
