import type { EventLog, IdleScheduler, KeyValueStore, Transport } from '../adapters.js';
import { Catalog, type CatalogItem, toCatalogItem } from '../catalog.js';
import { type ConsentTier, consentAllows, isConsentTier } from '../consent.js';
import { Emitter } from '../emitter.js';
import { OmniPersonaError, toOmniPersonaError } from '../errors.js';
import { eventItems, type PageContext, parseTrackInput, type TrackedEvent, type TrackInput } from '../event.js';
import { historyInput, itemSteps, trainingExamples } from '../features/history.js';
import { computeProfile } from '../features/profile.js';
import type { ModelRuntime, TrainReport } from '../model/model-runtime.js';
import { rankItems } from '../ranking.js';
import { parseRecommendRequest, type Recommendation, type RecommendRequest } from '../recommend-request.js';
import { SyncClient } from '../sync/sync-client.js';
import { Identity } from './identity.js';
import { ModelManager } from './model-manager.js';
import { type PersonalizerOptions, resolveOptions } from './options.js';
import type { Personalizer, PersonalizerEvents, PersonalizerStatus, SyncReport } from './personalizer.js';

/** What a platform hands the core. */
export interface PersonalizerPlatform {
  log: EventLog;
  kv: KeyValueStore;
  /** Present when the SDK has an endpoint to talk to. */
  transport?: Transport;
  loadRuntime: () => Promise<ModelRuntime>;
  scheduleIdle: IdleScheduler;
  now: () => number;
  randomId: () => string;
  /** Page context of an event being tracked now. */
  context?: () => PageContext | undefined;
}

const FLUSH_DELAY_MS = 250;

/** A personalizer as its platform sees it: platform failures are reported through the same `error` event. */
export interface CorePersonalizer extends Personalizer {
  reportError(error: unknown, context: string): void;
}

/** Builds a personalizer from options and platform adapters. Platform entries wrap this. */
export function createCorePersonalizer(options: PersonalizerOptions, platform: PersonalizerPlatform): CorePersonalizer {
  const config = resolveOptions(options);
  if (!isConsentTier(config.consent)) {
    throw new OmniPersonaError('INVALID_OPTIONS', `consent must be a consent tier, received ${String(config.consent)}`);
  }
  let consent: ConsentTier = config.consent;
  const emitter = new Emitter<PersonalizerEvents>();
  const catalog = new Catalog();
  const identity = new Identity(platform.kv, platform.randomId);
  const client = platform.transport ? new SyncClient(platform.transport) : undefined;
  const model = new ModelManager({
    kv: platform.kv,
    catalog,
    loadRuntime: platform.loadRuntime,
    ...(client ? { client } : {}),
    canPull: () => consentAllows(consent, 'pull'),
    offlineDim: config.offlineModelDim,
  });

  let queue: TrackedEvent[] = [];
  let flushTimer: unknown;
  let flushing: Promise<void> = Promise.resolve();
  let newItemEvents = 0;
  let training: Promise<TrainReport | undefined> | undefined;
  let lastTraining: TrainReport | undefined;
  let lastSync: SyncReport | undefined;

  const report = (error: unknown, context: string) =>
    emitter.emit('error', toOmniPersonaError(error, 'INTERNAL', context));
  // Reporting is set up before anything can fail.

  function flush(): Promise<void> {
    if (flushTimer !== undefined) clearTimeout(flushTimer);
    flushTimer = undefined;
    const batch = queue;
    queue = [];
    flushing = flushing.then(async () => {
      if (batch.length === 0) return;
      for (const event of batch) {
        const state = await identity.touch(event.time);
        event.anonymousId = state.anonymousId;
        event.sessionId = state.sessionId;
      }
      await identity.save();
      await platform.log.append(batch);
      scheduleTraining();
    });
    const done = flushing.catch((error: unknown) => report(error, 'Storing events failed'));
    flushing = done;
    return done;
  }

  function scheduleTraining(): void {
    if (config.trainAfterEvents === 0 || newItemEvents < config.trainAfterEvents || training) return;
    platform.scheduleIdle(() => {
      train().catch((error: unknown) => report(error, 'Training failed'));
    });
  }

  async function train(): Promise<TrainReport | undefined> {
    if (training) return training;
    if (!consentAllows(consent, 'store')) return undefined;
    training = (async () => {
      await flush();
      const events = await platform.log.list();
      await model.ready();
      const examples = trainingExamples(itemSteps(events, catalog, model.rows));
      newItemEvents = 0;
      if (examples.length === 0) return undefined;
      const result = await model.train(examples, config.trainingBudgetMs);
      lastTraining = result;
      emitter.emit('trained', result);
      emitter.emit('changed', { reason: 'trained' });
      if (config.syncAfterTraining && client && consentAllows(consent, 'push-update')) {
        sync().catch((error: unknown) => report(error, 'Sync failed'));
      }
      return result;
    })().finally(() => {
      training = undefined;
      scheduleTraining();
    });
    return training;
  }

  async function sync(): Promise<SyncReport> {
    const at = platform.now();
    if (!client) return remember({ at, pulled: false, pushed: false, skipped: 'no-endpoint' });
    if (!consentAllows(consent, 'pull')) return remember({ at, pulled: false, pushed: false, skipped: 'consent' });
    const pulled = await model.pull();
    if (pulled) {
      emitter.emit('changed', { reason: 'pulled' });
      await train();
    }
    const result: SyncReport = { at, pulled, pushed: false };
    if (consentAllows(consent, 'push-update')) {
      const update = await model.pendingUpdate();
      if (update) {
        result.receipt = await client.pushUpdate(update.delta, update.baseVersion, update.examples);
        result.pushed = true;
        await model.markUpdateSent();
      }
    }
    const version = model.version;
    if (version !== undefined) result.modelVersion = version;
    return remember(result);
  }

  function remember(result: SyncReport): SyncReport {
    lastSync = result;
    emitter.emit('synced', result);
    return result;
  }

  async function recommend(input: RecommendRequest): Promise<Recommendation[]> {
    const request = parseRecommendRequest(input);
    await flush();
    const events = consentAllows(consent, 'store') ? await platform.log.list() : [];
    const steps = itemSteps(events, catalog);
    const purchased = new Set(
      events.flatMap((event) => (event.type === 'purchase' ? eventItems(event) : [])).map((item) => item.id),
    );
    if (request.kind === 'recently-viewed') {
      const recent = [...new Set(steps.map((step) => step.item).reverse())];
      const scores = new Float32Array(catalog.size);
      recent.forEach((row, rank) => {
        scores[row] = recent.length - rank;
      });
      const seen = new Set(recent);
      const unseen = new Set(catalog.items.filter((_, row) => !seen.has(row)).map((item) => item.id));
      return rankItems(scores, request, { catalog, excluded: unseen, reason: () => 'Recently viewed' });
    }
    const anchor = request.item === undefined ? undefined : catalog.get(request.item);
    if (request.item !== undefined && !anchor) {
      throw new OmniPersonaError('NOT_FOUND', `Item "${request.item}" is not in the catalog`);
    }
    const scores = await scoreOrFallback(request.kind === 'trending' ? [] : anchor ? [anchor] : undefined, events);
    const excluded = new Set(purchased);
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
      const because = item.category[0] === undefined ? undefined : recentByCategory.get(item.category[0]);
      return request.kind === 'for-you' && because ? `Because you viewed ${label(because)}` : 'Popular right now';
    };
    return rankItems(scores, request, { catalog, excluded, reason });
  }

  /**
   * Model scores for a history (the shopper's own when `items` is undefined). When the model cannot
   * load, ranks by the shopper's category interest instead, so widgets still fill.
   */
  async function scoreOrFallback(items: CatalogItem[] | undefined, events: TrackedEvent[]): Promise<Float32Array> {
    try {
      await model.ready();
      const history = items
        ? {
            items: Int32Array.from(items, (item) => catalog.indexOf(item.id) ?? 0),
            weights: new Float32Array(items.length).fill(1),
          }
        : historyInput(itemSteps(events, catalog, model.rows), platform.now());
      const scores = await model.score(history);
      const all = new Float32Array(catalog.size).fill(Number.NEGATIVE_INFINITY);
      all.set(scores.subarray(0, catalog.size));
      return all;
    } catch (error) {
      report(error, 'Scoring with the model failed; ranking by category interest');
      const interest = new Map(
        computeProfile(events, catalog).categories.map((entry) => [entry.category, entry.share]),
      );
      return Float32Array.from(catalog.items, (item) => interest.get(item.category[0] ?? '') ?? 0);
    }
  }

  const personalizer: CorePersonalizer = {
    catalog,
    reportError: report,
    track(input: TrackInput) {
      const parsed = parseTrackInput(input);
      if (!consentAllows(consent, 'store')) return undefined;
      const context = platform.context?.();
      const event = {
        ...parsed,
        id: parsed.id ?? platform.randomId(),
        time: parsed.time ?? platform.now(),
        channel: config.channel,
        anonymousId: '',
        sessionId: '',
        ...(identity.userId === undefined ? {} : { userId: identity.userId }),
        ...(context ? { context } : {}),
      } as TrackedEvent;
      const items = eventItems(parsed);
      for (const item of items) catalog.upsert(toCatalogItem(item));
      newItemEvents += items.length;
      queue.push(event);
      flushTimer ??= setTimeout(flush, FLUSH_DELAY_MS);
      emitter.emit('tracked', event);
      return event;
    },
    async identify(userId) {
      await flush();
      await identity.setUser(userId);
    },
    recommend,
    async profile() {
      await flush();
      return computeProfile(consentAllows(consent, "store") ? await platform.log.list() : [], catalog, platform.now());
    },
    train,
    sync,
    async forget() {
      queue = [];
      await flushing;
      await platform.log.clear();
      await model.forget();
      await platform.kv.clear();
      identity.reset();
      lastTraining = undefined;
      emitter.emit('changed', { reason: 'forgotten' });
    },
    async status(): Promise<PersonalizerStatus> {
      const status: PersonalizerStatus = {
        consent,
        storage: platform.log.kind,
        events: await platform.log.count(),
        queued: queue.length,
        catalogSize: catalog.size,
        training: training !== undefined,
      };
      if (model.backend) status.backend = model.backend;
      if (model.version !== undefined) status.modelVersion = model.version;
      if (lastTraining) status.lastTraining = lastTraining;
      if (lastSync) status.lastSync = lastSync;
      return status;
    },
    async setConsent(tier) {
      if (!isConsentTier(tier)) {
        throw new OmniPersonaError('INVALID_OPTIONS', `consent must be a consent tier, received ${String(tier)}`);
      }
      consent = tier;
      if (tier === 'none') await personalizer.forget();
    },
    on: (name, listener) => emitter.on(name, listener),
    flush,
  };

  if (client && consentAllows(consent, 'pull')) {
    platform.scheduleIdle(() => {
      model.ready().catch((error: unknown) => report(error, 'Loading the model failed'));
    });
  }
  return personalizer;
}

function label(item: CatalogItem): string {
  return item.name ?? item.id;
}
