import { newTracker, trackSelfDescribingEvent } from '/peers/snowplow/snowplow.js';
import { registerTracker } from './harness.js';

// Snowplow's defaults otherwise: POST, one event per request, a localStorage queue, cookies for state.
newTracker('sp', location.origin, { appId: 'bench', platform: 'web' });

// A self-describing event carries the product's fields as one JSON object, as ours does; Snowplow's
// own product-view schema lives in an e-commerce plugin the bench does not install.
const SCHEMA = 'iglu:com.example.bench/product_view/jsonschema/1-0-0';

registerTracker({
  ready: Promise.resolve(),
  track: (item) =>
    trackSelfDescribingEvent({
      event: {
        schema: SCHEMA,
        data: { id: item.id, name: item.name, category: item.category, price: item.price, currency: item.currency },
      },
    }),
});
