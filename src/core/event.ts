import * as v from 'valibot';
import { OmniPersonaError } from './errors.js';

/** Where an event happened. Free-form beyond the well-known channels, within {@link CHANNEL_PATTERN}. */
export type Channel = 'web' | 'app' | 'store' | 'pos' | (string & {});

/** What a channel name may be: lowercase, starting with a letter, up to 32 characters (`web`, `kiosk-3`). */
export const CHANNEL_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/u;

const Id = v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(200));
const Money = v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(1e9));

/** Display and side-feature metadata of a product, as far as the page knows it. */
export const ItemSchema = v.object({
  id: Id,
  name: v.optional(v.pipe(v.string(), v.maxLength(500))),
  /** Category path, most general first: `['Shoes', 'Running']`, or `'Shoes > Running'`. */
  category: v.optional(
    v.union([
      v.pipe(v.array(v.pipe(v.string(), v.maxLength(200))), v.maxLength(10)),
      v.pipe(v.string(), v.maxLength(500)),
    ]),
  ),
  brand: v.optional(v.pipe(v.string(), v.maxLength(200))),
  price: v.optional(Money),
  currency: v.optional(v.pipe(v.string(), v.regex(/^[A-Z]{3}$/u, 'an ISO 4217 code'))),
  url: v.optional(v.pipe(v.string(), v.maxLength(2000))),
  image: v.optional(v.pipe(v.string(), v.maxLength(2000))),
  inStock: v.optional(v.boolean()),
});
export type ItemInput = v.InferInput<typeof ItemSchema>;

const LineSchema = v.object({
  item: ItemSchema,
  quantity: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(10_000)),
  price: v.optional(Money),
});

const Base = {
  /** Set by the SDK when absent; a repeated id is a duplicate. */
  id: v.optional(Id),
  /** Epoch milliseconds; set by the SDK when absent. */
  time: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  properties: v.optional(v.record(v.string(), v.union([v.string(), v.number(), v.boolean(), v.null()]))),
};

/** What a host passes to `track()`. The SDK adds ids, session and page context. */
export const TrackInputSchema = v.variant('type', [
  v.object({ ...Base, type: v.literal('page'), title: v.optional(v.pipe(v.string(), v.maxLength(500))) }),
  v.object({ ...Base, type: v.literal('view'), item: ItemSchema }),
  v.object({
    ...Base,
    type: v.literal('click'),
    item: ItemSchema,
    /** The recommendation widget or page region the click came from. */
    source: v.optional(v.pipe(v.string(), v.maxLength(200))),
  }),
  v.object({
    ...Base,
    type: v.literal('add_to_cart'),
    item: ItemSchema,
    quantity: v.optional(LineSchema.entries.quantity),
  }),
  v.object({
    ...Base,
    type: v.literal('remove_from_cart'),
    item: ItemSchema,
    quantity: v.optional(LineSchema.entries.quantity),
  }),
  v.object({
    ...Base,
    type: v.literal('purchase'),
    orderId: Id,
    items: v.pipe(v.array(LineSchema), v.minLength(1), v.maxLength(500)),
    currency: v.optional(v.pipe(v.string(), v.regex(/^[A-Z]{3}$/u, 'an ISO 4217 code'))),
  }),
  v.object({
    ...Base,
    type: v.literal('search'),
    query: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(500)),
    resultCount: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  }),
  v.object({
    ...Base,
    type: v.literal('rate'),
    item: ItemSchema,
    rating: v.pipe(v.number(), v.minValue(0), v.maxValue(5)),
  }),
  v.object({
    ...Base,
    type: v.literal('engagement'),
    /** The product the time was spent on; absent for time on a page without a product. */
    item: v.optional(ItemSchema),
    /**
     * Milliseconds the product (or the page) was visible — in the viewport, in a visible tab — since the
     * previous engagement event of that product on that page view: a product's dwell is the sum. At most a day.
     */
    dwellMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(86_400_000))),
    /** The largest fraction of the page seen so far, 0–1: the viewport's bottom over the page's height. */
    scrollDepth: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(1))),
  }),
  v.object({ ...Base, type: v.literal('custom'), name: v.pipe(v.string(), v.minLength(1), v.maxLength(100)) }),
]);
export type TrackInput = v.InferInput<typeof TrackInputSchema>;
export type EventType = TrackInput['type'];

/** Page context captured with each event. */
export interface PageContext {
  url?: string;
  referrer?: string;
  utm?: Record<string, string>;
}

/** An event as stored on the device: validated input plus identity, session and context. */
export type TrackedEvent = v.InferOutput<typeof TrackInputSchema> & {
  id: string;
  time: number;
  sessionId: string;
  anonymousId: string;
  userId?: string;
  channel: Channel;
  context?: PageContext;
};

/**
 * Validates what a host passed to `track()`.
 * @throws OmniPersonaError `INVALID_EVENT`, naming the first offending field.
 */
export function parseTrackInput(input: unknown): v.InferOutput<typeof TrackInputSchema> {
  const result = v.safeParse(TrackInputSchema, input);
  if (result.success) return result.output;
  const issue = result.issues[0];
  const path = issue ? (v.getDotPath(issue) ?? '(event)') : '(event)';
  throw new OmniPersonaError('INVALID_EVENT', `Invalid event at ${path}: ${issue?.message ?? 'rejected'}`);
}

/** The items an event is about, for learning and history. */
export function eventItems(event: v.InferOutput<typeof TrackInputSchema>): ItemInput[] {
  switch (event.type) {
    case 'view':
    case 'click':
    case 'add_to_cart':
    case 'remove_from_cart':
    case 'rate':
      return [event.item];
    case 'purchase':
      return event.items.map((line) => line.item);
    default:
      return [];
  }
}
