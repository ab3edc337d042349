import type {
  EventLog,
  ExclusiveRunner,
  HiddenObserver,
  IdleScheduler,
  KeyValueStore,
  TabChannel,
  Transport,
} from '../adapters.js';
import { Catalog, toCatalogItem } from '../catalog.js';
import { type AutomationSignals, detectAutomation } from '../cleaning/index.js';
import {
  type ConsentTier,
  capConsent,
  consentAllows,
  consentCap,
  isConsentTier,
  type PrivacySignals,
} from '../consent.js';
import { Emitter } from '../emitter.js';
import { describeValue, OmniPersonaError, toOmniPersonaError } from '../errors.js';
import { eventItems, type ItemInput, type PageContext, type TrackedEvent } from '../event.js';
import { itemSteps, trainingExamples } from '../features/history.js';
import { computeProfile, profileFeatures } from '../features/profile.js';
import type { ModelRuntime, TrainReport } from '../model/model-runtime.js';
import { fetchPriorFile } from '../sync/prior-file.js';
import { SyncClient } from '../sync/sync-client.js';
import { EventRecorder } from './event-recorder.js';
import { Impressions } from './impressions.js';
import { ModelManager } from './model-manager.js';
import { type PersonalizerOptions, resolveOptions } from './options.js';
import type { Personalizer, PersonalizerEvents, PersonalizerStatus, SyncReport } from './personalizer.js';
import { createRecommend } from './recommend.js';
import { ShopperSync, type ShopperSyncReport } from './shopper-sync.js';
import { isRetryable, retryDelay, type SyncRetry } from './sync-retry.js';

/** What a platform hands the core. */
export interface PersonalizerPlatform {
  log: EventLog;
  kv: KeyValueStore;
  /** Present when the SDK has an endpoint to talk to. */
  transport?: Transport;
  /**
   * Fetches the shop's own static files (the `prior` option): request paths are URLs, absolute or
   * relative to the page. Without it the `prior` option is refused.
   */
  assets?: Transport;
  loadRuntime: () => Promise<ModelRuntime>;
  scheduleIdle: IdleScheduler;
  now: () => number;
  randomId: () => string;
  /** Page context of an event being tracked now. */
  context?: () => PageContext | undefined;
  /** Tells the core when the host may go away, so queued events are written first. */
  onHidden?: HiddenObserver;
  /** The shopper's browser-wide privacy signals (GPC, DNT), read once at start. */
  privacySignals?: () => PrivacySignals;
  /** What the platform sees of automation, read once at start; the bot filter decides from it. */
  automationSignals?: () => AutomationSignals;
  /**
   * Removes the storage itself (the browser deletes its IndexedDB database). `forget()` calls it
   * after clearing the log and the key-value store, so a failure here leaves them empty anyway.
   */
  eraseStorage?: () => Promise<void>;
  /** Lets one of the shop's tabs train at a time (the others skip); without it, every instance trains. */
  exclusive?: ExclusiveRunner;
  /** Tells the shop's other tabs when this one trained, so they load its weights. */
  tabs?: TabChannel;
  /** How failed background syncs are retried. @default SYNC_RETRY */
  syncRetry?: SyncRetry;
}

/** A personalizer as its platform sees it: platform failures are reported through the same `error` event. */
export interface CorePersonalizer extends Personalizer {
  reportError(error: unknown, context: string): void;
}

/** Builds a personalizer from options and platform adapters. Platform entries wrap this. */
export function createCorePersonalizer(options: PersonalizerOptions, platform: PersonalizerPlatform): CorePersonalizer {
  const config = resolveOptions(options);
  const assets = platform.assets;
  const priorUrl = config.prior;
  if (priorUrl !== undefined && !assets) {
    throw new OmniPersonaError('INVALID_OPTIONS', `prior is set to ${priorUrl}, but this platform cannot fetch files`);
  }
  const cap = consentCap(platform.privacySignals?.());
  let consent: ConsentTier = capConsent(requireConsentTier(config.consent), cap);
  const canStore = () => consentAllows(consent, 'store');
  const emitter = new Emitter<PersonalizerEvents>();
  const report = (error: unknown, context: string) =>
    emitter.emit('error', toOmniPersonaError(error, 'INTERNAL', context));
  const automation =
    config.botFilter && platform.automationSignals ? detectAutomation(platform.automationSignals()) : undefined;
  const catalog = new Catalog();
  const client = platform.transport ? new SyncClient(platform.transport) : undefined;
  const model = new ModelManager({
    kv: platform.kv,
    catalog,
    loadRuntime: platform.loadRuntime,
    ...(client ? { client } : {}),
    ...(priorUrl !== undefined && assets ? { prior: () => fetchPriorFile(assets, priorUrl) } : {}),
    canPull: () => consentAllows(consent, 'pull'),
    canStore,
    offlineDim: config.offlineModelDim,
    weightsDtype: config.weightsDtype,
    now: platform.now,
    report,
  });

  const shopperSync =
    client && new ShopperSync({ client, log: platform.log, kv: platform.kv, shopperToken: config.shopperToken });

  /** Failed background syncs in a row, and the timer of the next try. */
  let retries = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  let newItemEvents = 0;
  let training: Promise<TrainReport | undefined> | undefined;
  let lastTraining: TrainReport | undefined;
  let lastSync: SyncReport | undefined;
  let syncing: Promise<unknown> = Promise.resolve();

  const impressions = new Impressions(platform.kv, platform.now, canStore);

  const recorder = new EventRecorder({
    log: platform.log,
    kv: platform.kv,
    now: platform.now,
    randomId: platform.randomId,
    ...(platform.context ? { context: platform.context } : {}),
    options: config,
    ...(automation ? { automation } : {}),
    canStore,
    onAccepted(event) {
      shopperSync?.recorded(event);
      for (const item of eventItems(event)) {
        catalog.upsert(toCatalogItem(item));
        if (event.type !== 'engagement' && event.type !== 'remove_from_cart') impressions.engaged(item.id);
      }
      emitter.emit('tracked', event);
    },
    onStored(events) {
      newItemEvents += events.reduce((sum, event) => sum + eventItems(event).length, 0);
      scheduleTraining();
    },
    onShopperChanged() {
      shopperSync?.clearRecorded();
      lastTraining = undefined;
      newItemEvents = 0;
      model.resetPersonal().catch((error: unknown) => report(error, 'Resetting the personal model failed'));
      emitter.emit('changed', { reason: 'identity' });
    },
    onRejected: (rejection) => emitter.emit('rejected', rejection),
    reportError: report,
  });

  /**
   * The shopper's history. Items it names that the catalog does not know yet (seen on an earlier
   * page, with no server catalog listing them) join it with the metadata they were recorded with,
   * the newest first, so a reload still recommends and explains them.
   */
  async function history(): Promise<TrackedEvent[]> {
    const events = await recorder.history();
    for (let i = events.length - 1; i >= 0; i--) {
      for (const item of eventItems(events[i] as TrackedEvent)) {
        if (!catalog.get(item.id)) catalog.upsert(toCatalogItem(item));
      }
    }
    return events;
  }

  function scheduleTraining(): void {
    if (config.trainAfterEvents === 0 || newItemEvents < config.trainAfterEvents || training) return;
    platform.scheduleIdle(() => {
      train().catch((error: unknown) => report(error, 'Training failed'));
    });
  }

  /**
   * Trains on the shopper's history. `syncAfter` is off for the retraining a sync does after pulling
   * a new global model: that sync pushes the result itself, and syncing again would pull the version
   * its own update just made, retrain and push again, for ever.
   */
  async function train(syncAfter = config.syncAfterTraining): Promise<TrainReport | undefined> {
    if (training) return training;
    if (!consentAllows(consent, 'store')) return undefined;
    // Counted as consumed up front: a failed run waits for new events instead of retrying at once.
    newItemEvents = 0;
    const run = async () => {
      const events = await history();
      // Items seen since the model loaded get their rows first, so that their steps are learnt from.
      await model.fitCatalog();
      const profile = profileFeatures(computeProfile(events, catalog));
      const examples = trainingExamples(itemSteps(events, catalog, model.rows), profile);
      if (examples.length === 0) return undefined;
      const result = await model.train(examples, config.trainingBudgetMs);
      lastTraining = result;
      platform.tabs?.post({ type: 'trained', report: result });
      emitter.emit('trained', result);
      emitter.emit('changed', { reason: 'trained' });
      if (syncAfter && client && consentAllows(consent, 'push-update')) backgroundSync();
      return result;
    };
    // The log is shared by the shop's tabs: while one trains on it, the others skip and take its result.
    training = (platform.exclusive ? platform.exclusive('train', run) : run()).finally(() => {
      training = undefined;
      scheduleTraining();
    });
    return training;
  }

  /**
   * One sync at a time: two interleaved syncs would both push an update from the same base
   * version, and the second would be refused as stale.
   */
  function sync(): Promise<SyncReport> {
    const run = syncing.then(syncOnce, syncOnce);
    syncing = run.catch(() => undefined);
    return run;
  }

  /**
   * A sync the SDK starts itself (after training): a failure is reported, and one that may pass
   * later (server unreachable or failing) is retried with exponential backoff and jitter until one
   * succeeds. What a sync sends stays stored until the server took it, so a retry loses nothing.
   */
  function backgroundSync(): void {
    if (retryTimer !== undefined) clearTimeout(retryTimer);
    retryTimer = undefined;
    sync().then(
      () => {
        retries = 0;
      },
      (error: unknown) => {
        report(error, 'Sync failed');
        if (!isRetryable(error) || !canStore()) return;
        retries++;
        retryTimer = setTimeout(backgroundSync, retryDelay(retries, Math.random, platform.syncRetry));
        // A host process (an SSR server, a test) is not kept alive for a retry.
        (retryTimer as { unref?: () => void }).unref?.();
      },
    );
  }

  async function syncOnce(): Promise<SyncReport> {
    const at = platform.now();
    if (!client) return remember({ at, pulled: false, pushed: false, skipped: 'no-endpoint' });
    // Deletions the server could not take when the shopper asked go first, whatever the tier now.
    if (shopperSync && canStore()) {
      await shopperSync.drainOutbox((error) => report(error, 'Deleting a forgotten shopper’s synced events failed'));
    }
    if (!consentAllows(consent, 'pull')) return remember({ at, pulled: false, pushed: false, skipped: 'consent' });
    // The shopper's other channels first, so that a retraining on a new global model reads their events too.
    const shopper = await syncShopper();
    const fetched = await model.pull();
    if (fetched) emitter.emit('changed', { reason: 'pulled' });
    // A new model is retrained on the log; a new catalog alone leaves the personal weights as they are.
    const pulled = fetched === 'model';
    if (pulled) await train(false);
    const result: SyncReport = { at, pulled, pushed: false };
    if (shopper) result.shopper = shopper;
    if (consentAllows(consent, 'push-update')) {
      const update = await model.pendingUpdate();
      if (update) {
        const sent = await client.pushUpdate(update.delta, update.baseVersion, update.examples);
        result.receipt = sent.receipt;
        result.updateBytes = sent.bytes;
        result.pushed = true;
        await model.markUpdateSent();
      }
    }
    const version = model.version;
    if (version !== undefined) result.modelVersion = version;
    return remember(result);
  }

  /** Exchanges the signed-in shopper's events with their other channels, under consent `synced`. */
  async function syncShopper(): Promise<ShopperSyncReport | undefined> {
    if (!shopperSync || !consentAllows(consent, 'push-personal')) return undefined;
    const events = await history();
    const userId = recorder.userId;
    if (userId === undefined) return undefined;
    const report = await shopperSync.sync(userId, events);
    if (report.pulled > 0) {
      // They count towards the next training like events recorded here.
      newItemEvents += report.pulled;
      emitter.emit('changed', { reason: 'synced' });
      scheduleTraining();
    }
    return report;
  }

  function remember(result: SyncReport): SyncReport {
    lastSync = result;
    emitter.emit('synced', result);
    return result;
  }

  /**
   * When `tier` (the consent in force until now) is `synced`, deletes the signed-in shopper's synced
   * log on the server too. A failure is reported and does not stop the device from forgetting.
   * @returns the user whose deletion must wait for the server, if any
   */
  async function forgetOnServer(tier: ConsentTier): Promise<string | undefined> {
    if (!shopperSync || !consentAllows(tier, 'push-personal')) return undefined;
    await recorder.flush();
    const userId = recorder.userId;
    if (userId === undefined) return undefined;
    try {
      await shopperSync.forget(userId);
      return undefined;
    } catch (error) {
      report(error, 'Deleting the shopper’s synced events on the server failed');
      return isRetryable(error) ? userId : undefined;
    }
  }

  const recommend = createRecommend({
    catalog,
    model,
    impressions,
    history,
    canStore,
    now: platform.now,
    report,
  });

  const personalizer: CorePersonalizer = {
    catalog,
    reportError: report,
    track: (input) => recorder.track(input),
    async identify(userId, options) {
      if (userId !== undefined && (typeof userId !== 'string' || userId.trim() === '' || userId.length > 200)) {
        throw new OmniPersonaError(
          'INVALID_REQUEST',
          `identify() takes a user id (a non-empty string of at most 200 characters) or undefined to sign out; received ${describeValue(userId)}`,
        );
      }
      const token = options?.token;
      if (token !== undefined && (typeof token !== 'string' || token === '')) {
        throw new OmniPersonaError(
          'INVALID_REQUEST',
          `identify()'s token must be a shopper token string, received ${describeValue(token)}`,
        );
      }
      if (userId !== undefined && token !== undefined) shopperSync?.rememberToken(userId, token);
      await recorder.identify(userId);
    },
    recommend,
    async shown(itemIds) {
      if (!Array.isArray(itemIds) || itemIds.some((id) => typeof id !== 'string')) {
        throw new OmniPersonaError(
          'INVALID_REQUEST',
          `shown() takes an array of item ids, received ${describeValue(itemIds)}`,
        );
      }
      await impressions.shown(itemIds);
    },
    async profile() {
      return computeProfile(await history(), catalog, platform.now());
    },
    train: () => train(),
    sync,
    async forgetInterest(category) {
      if (typeof category !== 'string' || category.trim() === '') {
        throw new OmniPersonaError(
          'INVALID_REQUEST',
          `forgetInterest() takes a category name, received ${describeValue(category)}`,
        );
      }
      if (!canStore()) return 0;
      await recorder.flush();
      const ids = (await history())
        .filter((event) => namedItems(event).some((item) => catalog.get(item.id)?.category[0] === category))
        .map((event) => event.id);
      if (ids.length === 0) return 0;
      const removed = await platform.log.remove(ids);
      const userId = recorder.userId;
      if (shopperSync && userId !== undefined && consentAllows(consent, 'push-personal')) {
        await shopperSync.remove(userId, ids).catch(async (error: unknown) => {
          report(error, 'Removing the events on the server failed; the next sync sends the removal');
          await shopperSync.queueRemove(userId, ids);
        });
      }
      emitter.emit('changed', { reason: 'forgotten' });
      // The personal part learnt from them: retrain on what is left.
      train(false).catch((error: unknown) => report(error, 'Training failed'));
      return removed;
    },
    async forget() {
      impressions.reset();
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      retryTimer = undefined;
      shopperSync?.clearRecorded();
      const waiting = await forgetOnServer(consent);
      await recorder.forget();
      await training?.catch(() => undefined);
      await model.forget();
      await Promise.all([platform.log.clear(), platform.kv.clear()]);
      catalog.replaceWith(new Catalog());
      lastTraining = undefined;
      newItemEvents = 0;
      if (waiting !== undefined && shopperSync && canStore()) {
        // Kept through the wipe: the server deletes their events at the next sync that reaches it.
        await shopperSync
          .queueForget(waiting)
          .catch((error: unknown) => report(error, 'Keeping the deletion for the next sync failed'));
      }
      if (platform.eraseStorage) {
        await platform.eraseStorage().catch((error: unknown) => report(error, 'Deleting the device database failed'));
      }
      emitter.emit('changed', { reason: 'forgotten' });
    },
    async status(): Promise<PersonalizerStatus> {
      const status: PersonalizerStatus = {
        consent,
        storage: platform.log.kind,
        // Under `none` the SDK does not open storage at all, not even to count.
        events: canStore() ? await platform.log.count() : 0,
        queued: recorder.queued,
        rejected: recorder.rejected,
        catalogSize: catalog.size,
        training: training !== undefined,
      };
      if (cap) status.consentCappedBy = cap.by;
      if (automation?.automated) status.automation = automation.reasons;
      if (model.backend) status.backend = model.backend;
      if (model.version !== undefined) status.modelVersion = model.version;
      if (lastTraining) status.lastTraining = lastTraining;
      if (lastSync) status.lastSync = lastSync;
      return status;
    },
    async setConsent(tier) {
      const before = consent;
      consent = capConsent(requireConsentTier(tier), cap);
      if (consent === 'none') {
        // Withdrawing every consent forgets the shopper, on the server too when it held their events
        // (under `none` nothing may be stored, so a deletion that fails now cannot wait for later).
        await forgetOnServer(before);
        await personalizer.forget();
      } else recorder.warmUp();
    },
    on: (name, listener) => emitter.on(name, listener),
    flush: () => recorder.flush(),
  };

  platform.onHidden?.(() => {
    void recorder.flush(true);
    // The signed-in shopper's events from this page leave now, so their other channels need not
    // wait for this device's next sync.
    const userId = recorder.userId;
    if (userId !== undefined && consentAllows(consent, 'push-personal')) shopperSync?.pushBeforeLeaving(userId);
  });
  recorder.warmUp();
  platform.tabs?.listen((message) => {
    // Another tab trained on the shared log and stored its weights: use them from the next score.
    if (!canStore()) return;
    model.reloadFromStorage();
    lastTraining = message.report;
    emitter.emit('changed', { reason: 'trained' });
  });
  if ((client || priorUrl !== undefined) && consentAllows(consent, 'pull')) {
    platform.scheduleIdle(() => {
      model.ready().catch((error: unknown) => report(error, 'Loading the model failed'));
    });
  }
  return personalizer;
}

/** The items an event is about: those `eventItems` names, and the product a dwell was measured on. */
function namedItems(event: TrackedEvent): ItemInput[] {
  return event.type === 'engagement' ? (event.item ? [event.item] : []) : eventItems(event);
}

/** @throws OmniPersonaError `INVALID_OPTIONS` for anything but a consent tier. */
function requireConsentTier(tier: unknown): ConsentTier {
  if (isConsentTier(tier)) return tier;
  throw new OmniPersonaError('INVALID_OPTIONS', `consent must be a consent tier, received ${String(tier)}`);
}
