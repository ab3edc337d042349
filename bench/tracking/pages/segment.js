import { AnalyticsBrowser } from '/peers/segment/segment.js';
import { registerTracker } from './harness.js';

// Settings Segment would fetch from its CDN, given inline; its Segment.io destination and metrics
// post to the bench's collector on this origin instead of api.segment.io.
const analytics = AnalyticsBrowser.load(
  {
    writeKey: 'bench',
    cdnURL: location.origin,
    cdnSettings: { integrations: { 'Segment.io': { apiKey: 'bench' } } },
  },
  { integrations: { 'Segment.io': { apiHost: `${location.host}/v1`, protocol: 'http' } } },
);

registerTracker({
  // The AnalyticsBrowser is a thenable that settles once settings and plugins are loaded.
  ready: analytics.then(() => undefined),
  track: (item) =>
    analytics.track('Product Viewed', {
      product_id: item.id,
      name: item.name,
      category: item.category,
      price: item.price,
      currency: item.currency,
    }),
});
