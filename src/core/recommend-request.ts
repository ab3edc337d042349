import * as v from 'valibot';
import type { CatalogItem } from './catalog.js';
import { OmniPersonaError } from './errors.js';

/** The kinds of recommendation the SDK serves. */
export type RecommendationKind = 'for-you' | 'similar' | 'bought-together' | 'trending' | 'recently-viewed';

const Factor = v.pipe(v.number(), v.finite(), v.gtValue(0));

export const RecommendRequestSchema = v.object({
  kind: v.picklist(['for-you', 'similar', 'bought-together', 'trending', 'recently-viewed']),
  /** @default 8 */
  count: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100)), 8),
  /** The anchor item for `similar` and `bought-together`. */
  item: v.optional(v.pipe(v.string(), v.minLength(1))),
  /** Only items whose category path starts with this. */
  category: v.optional(v.string()),
  minPrice: v.optional(v.number()),
  maxPrice: v.optional(v.number()),
  inStock: v.optional(v.boolean()),
  /** Item ids never to show. */
  exclude: v.optional(v.array(v.string())),
  /** Leave out items the shopper already viewed. @default true for `for-you` */
  excludeViewed: v.optional(v.boolean()),
  /** Leave out items in the shopper's cart (added, not removed, not bought since). @default true but for `recently-viewed` */
  excludeInCart: v.optional(v.boolean()),
  /**
   * Raise or lower items: each matching factor multiplies the item's odds (a factor of 2 doubles
   * them, 0.5 halves them; factors of several matches multiply). Keys are item ids, brands, and
   * top-level categories.
   */
  boost: v.optional(
    v.object({
      items: v.optional(v.record(v.string(), Factor)),
      brands: v.optional(v.record(v.string(), Factor)),
      categories: v.optional(v.record(v.string(), Factor)),
    }),
  ),
  /**
   * Diversity across categories: at most this many items of one top-level category, as long as
   * other categories can fill the list (the rest is then filled by score).
   */
  maxPerCategory: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  /**
   * Leave out items shown this many times in the last 7 days (reported with `shown()`; widgets
   * report what they show) without the shopper viewing, clicking or carting them since.
   */
  maxImpressions: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  /** Keep an item only when this returns true. */
  filter: v.optional(v.custom<(item: CatalogItem) => boolean>((value) => typeof value === 'function')),
});

/** What `recommend()` takes. */
export type RecommendRequest = v.InferInput<typeof RecommendRequestSchema>;
export type ParsedRecommendRequest = v.InferOutput<typeof RecommendRequestSchema>;

/** One recommended item, with why. */
export interface Recommendation {
  item: CatalogItem;
  score: number;
  reason: string;
}

/** @throws OmniPersonaError `INVALID_REQUEST` */
export function parseRecommendRequest(request: unknown): ParsedRecommendRequest {
  const result = v.safeParse(RecommendRequestSchema, request);
  if (result.success) {
    const needsItem = result.output.kind === 'similar' || result.output.kind === 'bought-together';
    if (needsItem && result.output.item === undefined) {
      throw new OmniPersonaError(
        'INVALID_REQUEST',
        `A "${result.output.kind}" request needs an item id, received none`,
      );
    }
    return result.output;
  }
  const issue = result.issues[0];
  const path = issue ? (v.getDotPath(issue) ?? '(request)') : '(request)';
  throw new OmniPersonaError(
    'INVALID_REQUEST',
    `Invalid recommend request at ${path}: ${issue?.message ?? 'rejected'}`,
  );
}
