import type { Catalog, CatalogItem } from '../catalog.js';
import { OmniPersonaError } from '../errors.js';
import { eventItems, type TrackedEvent } from '../event.js';
import { cartOf } from '../features/cart.js';
import { historyInput, itemSteps } from '../features/history.js';
import { computeProfile, profileFeatures } from '../features/profile.js';
import type { SignalKind } from '../model/model-spec.js';
import { rankItems } from '../ranking.js';
import { parseRecommendRequest, type Recommendation, type RecommendRequest } from '../recommend-request.js';
import { addCoVisits } from './add-co-visits.js';
import type { Impressions } from './impressions.js';
import type { ModelManager } from './model-manager.js';

/** What `recommend()` reads: the catalog, the model, the shopper's history and what they were shown. */
export interface RecommendDeps {
  catalog: Catalog;
  model: ModelManager;
  impressions: Impressions;
  /** The current shopper's history, oldest first. */
  history: () => Promise<TrackedEvent[]>;
  canStore: () => boolean;
  now: () => number;
  report: (error: unknown, context: string) => void;
}

/** The personalizer's `recommend()`: scores, exclusions, filters and a reason for each pick. */
export function createRecommend(deps: RecommendDeps): (input: RecommendRequest) => Promise<Recommendation[]> {
  const { catalog, model, impressions, history, canStore, now, report } = deps;

  return async function recommend(input: RecommendRequest): Promise<Recommendation[]> {
    const request = parseRecommendRequest(input);
    const events = await history();
    const purchased = new Set(
      events.flatMap((event) => (event.type === 'purchase' ? eventItems(event) : [])).map((item) => item.id),
    );
    // In the cart, and shown too often without the shopper taking them up.
    const leftOut = (request.excludeInCart ?? request.kind !== 'recently-viewed') ? cartOf(events) : new Set<string>();
    if (request.maxImpressions !== undefined) {
      for (const id of await impressions.overshown(request.maxImpressions)) leftOut.add(id);
    }
    if (request.kind === 'recently-viewed') {
      const recent = [
        ...new Set(
          itemSteps(events, catalog)
            .map((step) => step.item)
            .reverse(),
        ),
      ];
      const scores = new Float32Array(catalog.size);
      recent.forEach((row, rank) => {
        scores[row] = recent.length - rank;
      });
      const seen = new Set(recent);
      const unseen = new Set(catalog.items.filter((_, row) => !seen.has(row)).map((item) => item.id));
      for (const id of leftOut) unseen.add(id);
      return rankItems(scores, request, { catalog, excluded: unseen, reason: () => 'Recently viewed' });
    }
    const anchor = request.item === undefined ? undefined : catalog.get(request.item);
    if (request.item !== undefined && !anchor) {
      throw new OmniPersonaError('NOT_FOUND', `Item "${request.item}" is not in the catalog`);
    }
    // Similar items follow a view of the anchor; items bought together follow its purchase.
    const anchorKind = request.kind === 'bought-together' ? 'purchase' : 'view';
    const scores = await scoreOrFallback(
      request.kind === 'trending' ? [] : anchor ? [{ item: anchor, kind: anchorKind }] : undefined,
      events,
    );
    // Read after scoring: loading the model may have put the catalog in the server's order.
    const steps = itemSteps(events, catalog);
    // What shoppers went on to from the anchor, or from the shopper's newest items; none for trending.
    const coVisits = canStore() ? model.coVisits() : undefined;
    const anchorRow = anchor && catalog.indexOf(anchor.id);
    const visited =
      request.kind === 'trending' ? [] : anchorRow !== undefined ? [anchorRow] : steps.map((step) => step.item);
    const wentOn = coVisits ? addCoVisits(coVisits, scores, visited) : new Map<number, number>();
    const excluded = new Set([...purchased, ...leftOut]);
    if (anchor) excluded.add(anchor.id);
    if (request.excludeViewed ?? request.kind === 'for-you') {
      for (const step of steps) excluded.add(catalog.at(step.item)?.id ?? '');
    }
    const recentByCategory = new Map<string, CatalogItem>();
    for (const step of steps) {
      const item = catalog.at(step.item);
      if (item?.category[0] !== undefined) recentByCategory.set(item.category[0], item);
    }
    const reason = (item: CatalogItem): string => {
      if (anchor) return request.kind === 'similar' ? `Similar to ${label(anchor)}` : `Goes with ${label(anchor)}`;
      const from = request.kind === 'for-you' ? wentOn.get(catalog.indexOf(item.id) ?? -1) : undefined;
      const source = from === undefined ? undefined : catalog.at(from);
      if (source) return `Shoppers who viewed ${label(source)} went on to this`;
      const because = item.category[0] === undefined ? undefined : recentByCategory.get(item.category[0]);
      return request.kind === 'for-you' && because ? `Because you viewed ${label(because)}` : 'Popular right now';
    };
    return rankItems(scores, request, { catalog, excluded, reason });
  };

  /**
   * Model scores for a history (the shopper's own when `items` is undefined). When the model cannot
   * load, ranks by the shopper's category interest instead, so widgets still fill.
   */
  async function scoreOrFallback(
    items: Array<{ item: CatalogItem; kind: SignalKind }> | undefined,
    events: TrackedEvent[],
  ): Promise<Float32Array> {
    // Under `none` there is no history to personalise with, and nothing is downloaded.
    if (!canStore()) return interestScores(events);
    try {
      await model.fitCatalog();
      const time = now();
      const history = items
        ? historyInput(
            // An item newer than the model has no row yet: the history is then empty.
            items
              .map(({ item, kind }) => ({ item: catalog.indexOf(item.id) ?? model.rows, kind, time }))
              .filter((step) => step.item < model.rows),
            time,
          )
        : historyInput(
            itemSteps(events, catalog, model.rows),
            time,
            profileFeatures(computeProfile(events, catalog, time)),
          );
      const scores = await model.score(history);
      const all = new Float32Array(catalog.size).fill(Number.NEGATIVE_INFINITY);
      all.set(scores.subarray(0, catalog.size));
      return all;
    } catch (error) {
      report(error, 'Scoring with the model failed; ranking by category interest');
      return interestScores(events);
    }
  }

  function interestScores(events: TrackedEvent[]): Float32Array {
    const interest = new Map(computeProfile(events, catalog).categories.map((entry) => [entry.category, entry.share]));
    return Float32Array.from(catalog.items, (item) => interest.get(item.category[0] ?? '') ?? 0);
  }
}

function label(item: CatalogItem): string {
  return item.name ?? item.id;
}
